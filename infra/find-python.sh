#!/usr/bin/env bash
# Print the interpreter to build .venv with: Python 3.13 (the Lambda runtime) if this machine has
# it on PATH or under pyenv, else the newest python3 >= 3.12.
# With --runtime, print only a Python 3.13 (what `sam build` needs) or fail.
candidates=(python3.13 "$HOME"/.pyenv/versions/3.13*/bin/python3.13)
[ "${1:-}" = "--runtime" ] || candidates+=(python3.12 "$HOME"/.pyenv/versions/3.12*/bin/python3.12 python3)
minimum="(3, 13)"
[ "${1:-}" = "--runtime" ] || minimum="(3, 12)"
for candidate in "${candidates[@]}"; do
  if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c "import sys; sys.exit(sys.version_info[:2] < $minimum)" 2>/dev/null; then
    command -v "$candidate"
    exit 0
  fi
done
echo "no suitable Python found (want ${minimum}); install python3.13" >&2
exit 1
