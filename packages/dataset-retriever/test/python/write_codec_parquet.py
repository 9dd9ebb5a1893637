"""Writes one parquet file per codec with pyarrow, and the rows pyarrow reads back as JSON.

usage: write_codec_parquet.py OUT_DIR
Prints {"files": {codec: path}, "codecs": {codec: codec name in the file}, "rows": [...]} on stdout.
The expected rows are pyarrow's own `to_pylist()`, written as the loader promises to deliver them:
int64 beyond 2**53 as decimal strings, timestamps as ISO 8601 with every digit, binary as base64.
"""
import base64
import datetime
import json
import os
import sys

import pyarrow as pa
import pyarrow.parquet as pq

out = sys.argv[1]
n = 300
big = 2**53 + 1
schema = pa.schema(
    [
        ("id", pa.int64()),
        ("question", pa.string()),
        ("answers", pa.struct([("text", pa.list_(pa.string())), ("answer_start", pa.list_(pa.int32()))])),
        ("label", pa.int32()),
        ("created", pa.timestamp("us", tz="UTC")),
        ("blob", pa.binary()),
        ("note", pa.string()),
    ]
)
epoch = datetime.datetime(2021, 3, 4, 5, 6, 7, tzinfo=datetime.timezone.utc)
table = pa.table(
    {
        "id": [big + 2 * i for i in range(n)],
        "question": [f"Wie heißt Frage {i}? 質問 {i} 🙂" for i in range(n)],
        "answers": [{"text": [f"answer {i}", f"alt {i}"], "answer_start": [i, i + 1]} for i in range(n)],
        "label": [i % 3 for i in range(n)],
        "created": [epoch + datetime.timedelta(microseconds=123457 * i + 1) for i in range(n)],
        "blob": [bytes([i % 256, 0, 255, (i * 7) % 256]) for i in range(n)],
        "note": [None if i % 5 == 0 else f"note {i}" for i in range(n)],
    },
    schema=schema,
)


def plain(value):
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return str(value) if abs(value) > 2**53 - 1 else value
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    return value


files = {}
codecs = {}
for codec in ["NONE", "SNAPPY", "GZIP", "BROTLI", "ZSTD", "LZ4"]:
    path = os.path.join(out, f"{codec.lower()}.parquet")
    pq.write_table(table, path, compression=codec, row_group_size=64)
    files[codec] = path
    codecs[codec] = pq.ParquetFile(path).metadata.row_group(0).column(1).compression
rows = [plain(row) for row in pq.read_table(files["ZSTD"]).to_pylist()]
print(json.dumps({"files": files, "codecs": codecs, "rows": rows}))
