"""The AWS leaderboard cache: computed boards as items of the jobs table.

One table holds jobs, idempotency keys and boards, so a deployment has one table to
provision and back up; a board is a single item (hence the size check on ``put``).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from wavekit.backends.aws.clients import LazyClient, translated
from wavekit.backends.aws.dynamodb import DYNAMO_ITEM_LIMIT, attribute_value
from wavekit.errors import BackendError
from wavekit.ports.analytics import BOARDS, WINDOWS, Leaderboard, board_spec, check_window

if TYPE_CHECKING:
    from boto3.session import Session
    from botocore.config import Config
    from types_boto3_dynamodb import DynamoDBClient


class DynamoLeaderboardCache:
    """The leaderboard cache in the jobs table: one item per board and window,
    ``pk = leaderboard#<board>#<window>``, the payload being the board's JSON.

    Parameters
    ----------
    table
        The jobs table.
    dynamodb_client, boto3_session, boto_config
        Injected client, or how to build one lazily.
    """

    def __init__(
        self,
        table: str,
        *,
        dynamodb_client: DynamoDBClient | None = None,
        boto3_session: Session | None = None,
        boto_config: Config | None = None,
        region: str | None = None,
    ) -> None:
        self.table = table
        self._client: LazyClient[DynamoDBClient] = LazyClient(
            "dynamodb", dynamodb_client, boto3_session, boto_config, region
        )

    @property
    def client(self) -> DynamoDBClient:
        return self._client.get()

    @staticmethod
    def _pk(board: str, window: str) -> str:
        return f"leaderboard#{board}#{window}"

    def put(self, board: Leaderboard) -> None:
        payload = board.to_json(None)
        if len(payload.encode()) > DYNAMO_ITEM_LIMIT - 4096:
            raise BackendError(
                f"leaderboard {board.board}/{board.window} is too large for one item "
                f"({len(payload)} bytes); lower n",
                transient=False,
            )
        with translated(f"dynamodb put leaderboard {board.board}"):
            self.client.put_item(
                TableName=self.table,
                Item={
                    "pk": attribute_value(self._pk(board.board, board.window)),
                    "kind": attribute_value("leaderboard"),
                    "board": attribute_value(board.board),
                    "time_window": attribute_value(board.window),
                    "computed_at": attribute_value(board.computed_at),
                    "payload": attribute_value(payload),
                },
            )

    def get(self, board: str, window: str) -> Leaderboard | None:
        board_spec(board)
        check_window(window)
        with translated(f"dynamodb get leaderboard {board}"):
            item = self.client.get_item(
                TableName=self.table, Key={"pk": attribute_value(self._pk(board, window))}
            ).get("Item")
        return None if item is None else Leaderboard.from_dict(json.loads(item["payload"]["S"]))

    def computed_at(self) -> dict[tuple[str, str], dt.datetime]:
        keys = [{"pk": attribute_value(self._pk(b, w))} for b in BOARDS for w in WINDOWS]
        found: dict[tuple[str, str], dt.datetime] = {}
        for start in range(0, len(keys), 100):
            request: Mapping[str, Any] = {
                self.table: {
                    "Keys": keys[start : start + 100],
                    "ProjectionExpression": "#b, #w, #c",
                    "ExpressionAttributeNames": {
                        "#b": "board",
                        "#w": "time_window",
                        "#c": "computed_at",
                    },
                }
            }
            for _ in range(8):  # unprocessed keys come back under throttling
                with translated("dynamodb batch get leaderboards"):
                    response = self.client.batch_get_item(RequestItems=request)
                for item in response.get("Responses", {}).get(self.table, []):
                    key = (item["board"]["S"], item["time_window"]["S"])
                    found[key] = dt.datetime.fromisoformat(item["computed_at"]["S"])
                request = response.get("UnprocessedKeys") or {}
                if not request:
                    break
                time.sleep(0.05)
            else:
                raise BackendError("dynamodb batch get kept returning unprocessed keys")
        return found
