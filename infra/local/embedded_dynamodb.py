"""An embedded DynamoDB endpoint: moto's server app in a background thread of this process,
serving one request at a time, so every DynamoDB operation is atomic as it is on AWS even when
many HTTP clients call the API at once, and refusing what DynamoDB refuses
(infra/testing/dynamo_limits.py). Its state lives as long as the process."""

from __future__ import annotations

import threading
from typing import Any

import boto3
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

from infra.local.routes import stream_sources
from infra.local.streams import StreamPoller
from infra.local.template import LEDGER_TABLE, create_ledger_table
from infra.testing import dynamo_limits, moto_speed, moto_transactions


class _QuietRequestHandler(MotoRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # one line per DynamoDB call would drown the API's own access log


class EmbeddedDynamoDB:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        moto_transactions.install()
        dynamo_limits.install()  # refuses what DynamoDB refuses (items over 400 KB, ...)
        moto_speed.install()  # the same answers, serialized in a fraction of the time
        # threaded=False: the server takes the next request only when the last one is answered.
        self._server: BaseWSGIServer = make_server(
            host, port, DomainDispatcherApplication(create_backend_app), threaded=False,
            request_handler=_QuietRequestHandler,
        )  # fmt: skip
        self._thread = threading.Thread(target=self._server.serve_forever, name="embedded-dynamodb", daemon=True)

    @property
    def endpoint_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> EmbeddedDynamoDB:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)

    def _client(self, service: str, region: str) -> Any:
        make: Any = boto3.client  # one helper for several services (the stubs type each by name)
        return make(
            service, endpoint_url=self.endpoint_url, region_name=region,
            aws_access_key_id="local", aws_secret_access_key="local",  # noqa: S106 (the embedded endpoint's)
        )  # fmt: skip

    def create_table(self, table_name: str, region: str) -> None:
        create_ledger_table(self._client("dynamodb", region), table_name)

    def stream_pollers(self, table_name: str, region: str, pools: dict[str, Any]) -> list[StreamPoller]:
        """The template's stream mappings of the ledger table, each polling its stream (started)."""
        stream_arn = self._client("dynamodb", region).describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
        streams = self._client("dynamodbstreams", region)
        return [StreamPoller(streams, stream_arn, source, pools[source.function].invoke).start()
                for source in stream_sources() if source.table == LEDGER_TABLE]  # fmt: skip
