"""The S3-compatible implementation of :class:`app.storage.Storage` (``STORAGE_URL=s3://bucket/prefix``).

Any store speaking the S3 API works (AWS, MinIO, Cloudflare R2, …): ``S3_ENDPOINT_URL``,
``S3_REGION``, ``S3_ACCESS_KEY_ID`` and ``S3_SECRET_ACCESS_KEY`` say where and as whom. Objects
are written with the long cache header public keys deserve (keys are content-hashed), and a
private key is handed out as a presigned GET URL that expires.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from app.storage import FileMissing, StorageError, check_key

#: ``Cache-Control`` of stored objects (content-hashed keys never change).
OBJECT_CACHE_CONTROL = "public, max-age=31536000, immutable"


def parse_storage_url(url: str) -> tuple[str, str]:
    """``(bucket, prefix)`` of ``s3://bucket/some/prefix`` (prefix without slashes at its ends,
    possibly empty).

    Raises:
        StorageError: not an ``s3://`` URL with a bucket.
    """
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc:
        raise StorageError(f"STORAGE_URL must look like s3://bucket/prefix, not {url!r}")
    return parts.netloc, parts.path.strip("/")


class S3Storage:
    """Files in bucket ``bucket`` under ``prefix`` through boto3 client ``client`` (thread-safe)."""

    def __init__(self, client: object, bucket: str, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/")

    @classmethod
    def from_settings(cls, url: str, *, endpoint_url: str = "", region: str = "us-east-1",
                      access_key_id: str = "", secret_access_key: str = "") -> S3Storage:
        """An :class:`S3Storage` for ``STORAGE_URL`` ``url`` and the ``S3_*`` settings (empty
        keys: boto3's usual credential chain).

        Raises:
            StorageError: ``url`` is not an ``s3://`` URL.
        """
        bucket, prefix = parse_storage_url(url)
        client = boto3.client(
            "s3", endpoint_url=endpoint_url or None, region_name=region or None,
            aws_access_key_id=access_key_id or None, aws_secret_access_key=secret_access_key or None,
            config=Config(signature_version="s3v4", retries={"max_attempts": 3, "mode": "standard"},
                          connect_timeout=5, read_timeout=20))
        return cls(client, bucket, prefix)

    def object_key(self, key: str) -> str:
        """The object's name in the bucket: ``<prefix>/<key>``."""
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store ``data`` under ``key`` with ``content_type`` and a one-year immutable cache header.

        Raises:
            StorageError: bad key or the store refused.
        """
        try:
            self.client.put_object(Bucket=self.bucket, Key=self.object_key(key), Body=data,
                                   ContentType=content_type, CacheControl=OBJECT_CACHE_CONTROL)
        except (ClientError, BotoCoreError) as exc:
            raise StorageError(f"cannot write {key!r}: {exc}") from exc

    def get(self, key: str) -> bytes:
        """The bytes under ``key``.

        Raises:
            FileMissing: no such object.
            StorageError: bad key or the store failed.
        """
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self.object_key(key))["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                raise FileMissing(key) from exc
            raise StorageError(f"cannot read {key!r}: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"cannot read {key!r}: {exc}") from exc

    def delete(self, key: str) -> None:
        """Remove ``key``'s object if present.

        Raises:
            StorageError: bad key or the store failed.
        """
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self.object_key(key))
        except (ClientError, BotoCoreError) as exc:
            raise StorageError(f"cannot delete {key!r}: {exc}") from exc

    def presigned_url(self, key: str, seconds: int) -> str:
        """A URL anyone holding it may GET ``key`` with, for ``seconds`` seconds.

        Raises:
            StorageError: bad key or the URL cannot be signed.
        """
        try:
            return self.client.generate_presigned_url(
                "get_object", Params={"Bucket": self.bucket, "Key": self.object_key(key)}, ExpiresIn=seconds)
        except (ClientError, BotoCoreError) as exc:
            raise StorageError(f"cannot sign {key!r}: {exc}") from exc
