"""Where a warehouse or an input lives: a local path, or an object-store URL (`s3://bucket/prefix`).

Published tables, quarantine, manifests, run summaries and quality results are written to the warehouse location.
The DuckDB file, its writer lock, GX Data Docs and the `_work` staging between stages always stay on local disk:
in the warehouse directory itself, or for an object-store warehouse in `local_dir(url)`, that is
`$GEOWIRE_LOCAL_DIR/s3/<bucket>/<prefix>` (default `$TMPDIR/geowire/s3/<bucket>/<prefix>`).

S3 is reached through pyarrow's own S3 client (no fsspec plugin, no DuckDB extension), configured from the usual
AWS environment: AWS_ENDPOINT_URL (an S3-compatible server such as MinIO), AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION / AWS_DEFAULT_REGION.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    import pyarrow.fs as pafs

SCHEMES = ("s3",)


class ObjectPath:
    """A key or prefix in an object store, with the few pathlib operations the pipeline needs.

    Object stores have no directories and no rename: a prefix "exists" when objects are under it, and a write is
    one PUT, which readers see whole or not at all (the object-store counterpart of the local temp file + rename).
    """

    def __init__(self, url: str):
        scheme, sep, rest = url.partition("://")
        if not sep or scheme not in SCHEMES:
            raise ValueError(f"not an object-store URL: {url!r} (supported: {', '.join(s + '://' for s in SCHEMES)})")
        self.scheme = scheme
        self.key = rest.strip("/")

    def __str__(self) -> str:
        return f"{self.scheme}://{self.key}"

    def __repr__(self) -> str:
        return f"ObjectPath({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ObjectPath) and str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))

    def __truediv__(self, part: str) -> ObjectPath:
        return ObjectPath(f"{self}/{str(part).strip('/')}")

    @property
    def name(self) -> str:
        return self.key.rsplit("/", 1)[-1]

    @property
    def parent(self) -> ObjectPath:
        return ObjectPath(f"{self.scheme}://{self.key.rsplit('/', 1)[0]}")

    @property
    def filesystem(self) -> pafs.FileSystem:
        return _s3_filesystem(*_s3_settings())

    def _info(self) -> pafs.FileInfo:
        return self.filesystem.get_file_info(self.key)

    def exists(self) -> bool:
        import pyarrow.fs as pafs

        return self._info().type != pafs.FileType.NotFound

    def is_file(self) -> bool:
        import pyarrow.fs as pafs

        return self._info().type == pafs.FileType.File

    def is_dir(self) -> bool:
        import pyarrow.fs as pafs

        return self._info().type == pafs.FileType.Directory

    def iterdir(self) -> Iterator[ObjectPath]:
        import pyarrow.fs as pafs

        selector = pafs.FileSelector(self.key, allow_not_found=True)
        for info in sorted(self.filesystem.get_file_info(selector), key=lambda i: i.path):
            yield ObjectPath(f"{self.scheme}://{info.path}")

    def files(self) -> Iterator[ObjectPath]:
        """Every object below this prefix, in key order."""
        import pyarrow.fs as pafs

        selector = pafs.FileSelector(self.key, allow_not_found=True, recursive=True)
        infos = self.filesystem.get_file_info(selector)
        for info in sorted((i for i in infos if i.type == pafs.FileType.File), key=lambda i: i.path):
            yield ObjectPath(f"{self.scheme}://{info.path}")

    def mkdir(self, parents: bool = False, exist_ok: bool = False) -> None:
        """Nothing to do: a prefix comes into being with its first object."""

    def read_bytes(self) -> bytes:
        with self.filesystem.open_input_stream(self.key) as f:
            return f.read()

    def read_text(self, encoding: str = "utf-8") -> str:
        return self.read_bytes().decode(encoding)

    def write_bytes(self, data: bytes) -> None:
        with self.filesystem.open_output_stream(self.key) as f:
            f.write(data)

    def write_text(self, text: str, encoding: str = "utf-8") -> None:
        self.write_bytes(text.encode(encoding))

    def upload(self, local: Path) -> None:
        """Copy a local file to this key (streamed, so a large file is not held in memory)."""
        with open(local, "rb") as source, self.filesystem.open_output_stream(self.key) as target:
            shutil.copyfileobj(source, target, 8 << 20)

    def download(self, local: Path) -> None:
        local.parent.mkdir(parents=True, exist_ok=True)
        with self.filesystem.open_input_stream(self.key) as source, open(local, "wb") as target:
            shutil.copyfileobj(source, target, 8 << 20)

    def unlink(self, missing_ok: bool = False) -> None:
        if missing_ok and not self.exists():
            return
        self.filesystem.delete_file(self.key)


Location = Path | ObjectPath


def is_remote(value: str | os.PathLike | ObjectPath) -> bool:
    return isinstance(location(value), ObjectPath)


def location(value: str | os.PathLike | ObjectPath) -> Location:
    """A warehouse or input as given on the command line, in the environment or through XCom."""
    if isinstance(value, ObjectPath):
        return value
    text = os.fspath(value)
    for scheme in SCHEMES:
        if text.startswith(f"{scheme}://"):
            return ObjectPath(text)
        # Path("s3://b/p") collapses the double slash; it still means the object store, not a directory "s3:".
        if isinstance(value, Path) and text.startswith(f"{scheme}:/"):
            return ObjectPath(f"{scheme}://{text[len(scheme) + 2 :]}")
    return Path(value)


def local_dir(warehouse: str | os.PathLike | ObjectPath) -> Path:
    """The local directory that holds the DuckDB file, the lock and the `_work` staging of `warehouse`."""
    where = location(warehouse)
    if isinstance(where, Path):
        return where
    base = Path(os.environ.get("GEOWIRE_LOCAL_DIR") or Path(tempfile.gettempdir()) / "geowire")
    return base / where.scheme / where.key


def uri(where: Location) -> str:
    """`file:///abs/path` or `s3://bucket/key`: for Airflow Assets and messages."""
    return str(where) if isinstance(where, ObjectPath) else where.resolve().as_uri()


def fetch_inputs(
    inputs: Sequence[str | os.PathLike | ObjectPath], cache_dir: Path
) -> tuple[list[Path], dict[str, str]]:
    """Local paths for `inputs`: object-store files and prefixes are downloaded below `cache_dir` (hidden names
    skipped, as in a local inbox). Returns the paths and, for messages and quarantine records, each downloaded
    file's object URL by its local path."""
    local: list[Path] = []
    origins: dict[str, str] = {}
    for item in inputs:
        where = location(item)
        if isinstance(where, Path):
            local.append(where)
            continue
        target = cache_dir / where.scheme / where.key
        if where.is_file():
            objects = [(where, target)]
        else:
            objects = [(o, cache_dir / o.scheme / o.key) for o in where.files()]
            objects = [(o, t) for o, t in objects if not any(p.startswith(".") for p in t.relative_to(target).parts)]
            if not objects:
                raise FileNotFoundError(f"input not found: {where}")
        for obj, path in objects:
            obj.download(path)
            origins[str(path)] = str(obj)
        local.append(target)
    return local, origins


def restore_origin(row: dict, origins: dict[str, str]) -> dict:
    """A record read from a downloaded copy names the object it came from, not the copy."""
    local = row.get("path")
    if local in origins:
        row["path"] = origins[local]
        pointer = row.get("payload_pointer")
        if pointer and pointer.startswith(local):
            row["payload_pointer"] = origins[local] + pointer[len(local) :]
    return row


def _s3_settings() -> tuple[str | None, str | None, str | None, str | None, str | None]:
    env = os.environ
    return (
        env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL"),
        env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION"),
        env.get("AWS_ACCESS_KEY_ID"),
        env.get("AWS_SECRET_ACCESS_KEY"),
        env.get("AWS_SESSION_TOKEN"),
    )


@cache
def _s3_filesystem(
    endpoint: str | None, region: str | None, access_key: str | None, secret_key: str | None, token: str | None
) -> pafs.S3FileSystem:
    """One client per configuration (cached, since creating one is slow); a changed environment gets a new one."""
    import pyarrow.fs as pafs

    options: dict = {"region": region or "us-east-1"}
    if endpoint:
        parts = urlsplit(endpoint)
        options["endpoint_override"] = parts.netloc or parts.path
        options["scheme"] = parts.scheme or "https"
    if access_key and secret_key:
        options.update(access_key=access_key, secret_key=secret_key, session_token=token)
    return pafs.S3FileSystem(**options)
