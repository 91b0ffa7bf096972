"""The static page: built with the deployed API's URL, synced to its bucket.

The page is published after the stack because it needs the stack's outputs (API URL,
bucket names). The sync compares MD5s with S3's ETags, so a redeploy uploads only what
changed and invalidates CloudFront only if something did.
"""

from __future__ import annotations

import hashlib
import mimetypes
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING

from wavekit.backends.aws.clients import DEFAULT_RETRY, AwsRetry
from wavekit.deploy.config import DeployConfig, Echo

if TYPE_CHECKING:
    from boto3.session import Session

NO_CACHE = frozenset({"index.html", "leaderboards.html", "config.js"})
"""Files that name the API or the other files: browsers must revalidate them."""
DELETE_BATCH = 1000
"""Keys per ``DeleteObjects`` call (S3's limit)."""


def build_web_site(
    out_dir: Path, api_url: str, region: str, bucket: str, config: DeployConfig
) -> Path:
    """The page (``wavekit.web.build_site``) with the API URL injected; presigned
    downloads come from the WAV bucket's origin, which the page's CSP must allow."""
    from wavekit.web import build_site

    connect = [f"https://{bucket}.s3.amazonaws.com", f"https://{bucket}.s3.{region}.amazonaws.com"]
    shutil.rmtree(out_dir, ignore_errors=True)
    build_site(out_dir, api_url, "url", max_duration_s=config.max_duration_s, connect=connect)
    return out_dir


def _content_type(path: Path) -> str:
    try:
        from wavekit.web import media_type

        return media_type(path)
    except ImportError:  # pragma: no cover - the web page ships with wavekit
        return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def publish_site(
    session: Session,
    bucket: str,
    site_dir: Path,
    *,
    distribution_id: str | None = None,
    retry: AwsRetry = DEFAULT_RETRY,
    echo: Echo = print,
) -> int:
    """Sync ``site_dir`` to the page bucket: upload changed files (by MD5), delete stale
    ones, invalidate CloudFront if anything changed. Returns the files uploaded."""
    s3 = session.client("s3")
    present: dict[str, str] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for entry in page.get("Contents", []):
            present[entry["Key"]] = entry["ETag"].strip('"')
    wanted = {str(p.relative_to(site_dir)): p for p in sorted(site_dir.rglob("*")) if p.is_file()}
    uploaded = 0
    for key, path in wanted.items():
        data = path.read_bytes()
        if present.get(key) == hashlib.md5(data, usedforsecurity=False).hexdigest():
            continue
        cache = "no-cache" if key in NO_CACHE else "public, max-age=300"
        retry(
            s3.put_object,
            Bucket=bucket,
            Key=key,
            Body=data,
            ContentType=_content_type(path),
            CacheControl=cache,
        )
        uploaded += 1
    stale = [k for k in present if k not in wanted]
    for start in range(0, len(stale), DELETE_BATCH):
        objects = [{"Key": k} for k in stale[start : start + DELETE_BATCH]]
        retry(s3.delete_objects, Bucket=bucket, Delete={"Objects": objects, "Quiet": True})
    changed = uploaded + len(stale)
    echo(f"page: {uploaded} file(s) uploaded, {len(stale)} removed")
    if changed and distribution_id:
        retry(
            session.client("cloudfront").create_invalidation,
            DistributionId=distribution_id,
            InvalidationBatch={
                "Paths": {"Quantity": 1, "Items": ["/*"]},
                "CallerReference": f"wavekit-{time.time_ns()}",
            },
        )
    return uploaded
