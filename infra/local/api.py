"""`make run`: the API of template.yaml on http://127.0.0.1:3000, no Docker, no AWS account.

Each request becomes an API Gateway payload-2.0 event for the real handler of its route, run in a
local Lambda container (its own process) against an embedded DynamoDB whose table is created from
template.yaml. See infra/local/server.py (HTTP), infra/local/gateway.py (routes and identity),
infra/local/lambda_pool.py (containers) and infra/local/admin.py (the ``/_local/`` routes).

Environment: ``PORT`` (3000), ``HOST`` (127.0.0.1), ``CATALOG_FILE`` / ``CATALOG_JSON``,
``CAMPAIGN_CLOSES_AT``, ``LOCAL_API_QUIET=1`` (no access log). State lives as long as the process.

This module stays empty on purpose: every container is a spawned interpreter, which imports the
main module again (as ``__mp_main__``); the server's own imports (moto, werkzeug) are not theirs.
"""

import sys

if __name__ == "__main__":
    from infra.local.lambda_container import put_layers_on_path

    put_layers_on_path()  # the server speaks the edge layer's problem catalogue
    from infra.local.server import main

    sys.exit(main())
