#!/usr/bin/env bash
# Print the interpreter to build .venv with: Python 3.13 (the Lambda runtime) if this machine has
# it on PATH or under pyenv, else the newest python3 available.
for candidate in python3.13 "$HOME"/.pyenv/versions/3.13*/bin/python3.13 python3; do
  if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
    command -v "$candidate"
    exit 0
  fi
done
echo "no Python 3.12+ found; install python3.13" >&2
exit 1
