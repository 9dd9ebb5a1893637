"""pyarrow side of bench/dataset-load.

  parquet_tool.py write OUT.parquet ROWS CODEC   writes a SQuAD-shaped split (pyarrow, row groups of 10,000)
  parquet_tool.py load URL                         the baseline: download over HTTP, pq.read_table, to_pylist()
"""
import hashlib
import io
import json
import sys
import time
import urllib.request

import pyarrow as pa
import pyarrow.parquet as pq

if sys.argv[1] == "write":
    out, rows, codec = sys.argv[2], int(sys.argv[3]), sys.argv[4]
    words = [hashlib.sha256(str(i).encode()).hexdigest()[:8] for i in range(5000)]
    context = [" ".join(words[(i * 13 + k) % 5000] for k in range(90)) for i in range(rows)]
    table = pa.table(
        {
            "id": [f"{i:024x}" for i in range(rows)],
            "title": [f"Topic_{i % 500}" for i in range(rows)],
            "context": context,
            "question": [f"What does passage {i} say about {words[i % 5000]}?" for i in range(rows)],
            "answers": [{"text": [words[(i * 13) % 5000]], "answer_start": [0]} for i in range(rows)],
        }
    )
    pq.write_table(table, out, compression=codec, row_group_size=10_000)
    print(json.dumps({"rows": rows, "bytes": pq.ParquetFile(out).metadata.serialized_size}))
elif sys.argv[1] == "load":
    started = time.perf_counter()
    data = urllib.request.urlopen(sys.argv[2]).read()
    rows = pq.read_table(io.BytesIO(data)).to_pylist()
    seconds = time.perf_counter() - started
    print(json.dumps({"rows": len(rows), "seconds": seconds, "bytes": len(data)}))
