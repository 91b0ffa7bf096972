"""The S3 blob store beyond the shared port contract: presigned URL limits."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from tests.aws.resources import new_session
from wavekit.backends import aws


def test_presigned_urls_are_capped_and_name_the_file_safely(aws_env: None) -> None:
    blobs = aws.S3BlobStore("bucket", boto3_session=new_session(), max_url_ttl_s=3600)
    url = urlparse(blobs.presigned_url("waves/a.wav", 7 * 24 * 3600, 'evil"\r\nname.wav'))
    query = parse_qs(url.query)
    assert query["X-Amz-Expires"] == ["3600"]
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    disposition = query["response-content-disposition"][0]
    assert disposition == 'attachment; filename="evil_name.wav"'
    assert query["response-content-type"] == ["audio/wav"]
