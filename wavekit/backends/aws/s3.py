"""WAV files in a private S3 bucket; clients download them with presigned GETs.

The bucket (block public access on, lifecycle rule as a backstop to the cleaner) is
declared in ``deploy/template.yaml``.
"""

from __future__ import annotations

import re
import tempfile
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from wavekit.backends.aws.clients import (
    LazyClient,
    backend_error,
    default_config,
    error_code,
    translated,
)
from wavekit.errors import BackendError

if TYPE_CHECKING:
    from boto3.session import Session
    from botocore.config import Config
    from types_boto3_s3 import S3Client

NOT_FOUND_CODES = frozenset({"404", "NoSuchKey", "NotFound", "NoSuchBucket"})
MAX_PRESIGN_S = 12 * 3600
"""Presigned URLs live at most this long (signatures made with Lambda's temporary
credentials die with them anyway)."""
_SAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


class S3BlobStore:
    """WAV files in a private S3 bucket; clients download them with presigned GETs.

    Parameters
    ----------
    bucket
        The bucket (block public access on; see the template).
    s3_client, boto3_session, boto_config
        An injected client wins; otherwise one is built from the session on first use.
        Presigning needs SigV4 and the bucket's region, which the default config sets.
    max_url_ttl_s
        Cap on presigned URL lifetimes, whatever the caller asks.
    """

    def __init__(
        self,
        bucket: str,
        *,
        s3_client: S3Client | None = None,
        boto3_session: Session | None = None,
        boto_config: Config | None = None,
        region: str | None = None,
        max_url_ttl_s: int = MAX_PRESIGN_S,
    ) -> None:
        self.bucket = bucket
        self.max_url_ttl_s = max_url_ttl_s
        config = boto_config
        if config is None and s3_client is None:
            config = default_config(signature_version="s3v4", s3={"addressing_style": "virtual"})
        self._client: LazyClient[S3Client] = LazyClient(
            "s3", s3_client, boto3_session, config, region
        )

    @property
    def client(self) -> S3Client:
        return self._client.get()

    def put_file(self, key: str, path: Path) -> int:
        size = Path(path).stat().st_size
        with translated(f"s3 upload {key}"):
            self.client.upload_file(
                str(path), self.bucket, key, ExtraArgs={"ContentType": "audio/wav"}
            )
        return size

    def size(self, key: str) -> int | None:
        from botocore.exceptions import ClientError

        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if error_code(exc) in NOT_FOUND_CODES:
                return None
            raise backend_error(exc, f"s3 head {key}") from exc
        except Exception as exc:
            raise backend_error(exc, f"s3 head {key}") from exc
        return int(head["ContentLength"])

    def read_range(self, key: str, start: int, length: int) -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError

        if length <= 0:
            return b""
        try:
            response = self.client.get_object(
                Bucket=self.bucket, Key=key, Range=f"bytes={start}-{start + length - 1}"
            )
            body: bytes = response["Body"].read()
        except ClientError as exc:
            if error_code(exc) in NOT_FOUND_CODES:
                raise BackendError(f"blob {key} is gone", transient=False) from exc
            if error_code(exc) == "InvalidRange":  # past the end, like reading a short file
                return b""
            raise backend_error(exc, f"s3 get {key}") from exc
        except BotoCoreError as exc:
            raise backend_error(exc, f"s3 get {key}") from exc
        return body

    def delete(self, key: str) -> None:
        with translated(f"s3 delete {key}"):
            self.client.delete_object(Bucket=self.bucket, Key=key)

    def presigned_url(self, key: str, expires_s: int, filename: str) -> str | None:
        """A SigV4 GET URL valid ``min(expires_s, max_url_ttl_s)`` seconds that makes the
        browser save the file as ``filename``."""
        safe = _SAFE_FILENAME.sub("_", filename).strip("._") or "wavekit.wav"
        ttl = max(1, min(int(expires_s), self.max_url_ttl_s))
        with translated(f"s3 presign {key}"):
            url: str = self.client.generate_presigned_url(
                "get_object",
                Params={
                    "Bucket": self.bucket,
                    "Key": key,
                    "ResponseContentDisposition": f'attachment; filename="{safe}"',
                    "ResponseContentType": "audio/wav",
                },
                ExpiresIn=ttl,
                HttpMethod="GET",
            )
        return url

    def temp_path(self, suffix: str = ".part") -> Path:
        """Where the worker writes a WAV before uploading it (Lambda's /tmp)."""
        return Path(tempfile.gettempdir()) / f"wavekit-{uuid.uuid4().hex}{suffix}"

    def recover(self) -> int:
        """Nothing to do: S3 puts are atomic, so a crash leaves no partial object."""
        return 0
