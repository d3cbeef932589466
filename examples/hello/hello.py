# A first cell for tooliscode's guest: plain CPython 3.11 in WebAssembly, no tools yet.
# Run it with: npx tic run examples/hello/hello.py
import json, statistics, sys, zlib
from collections import Counter

orders = json.loads("""[
  {"customer": "ada", "total": 120.5}, {"customer": "lin", "total": 80.0},
  {"customer": "ada", "total": 42.25}, {"customer": "kim", "total": 310.0}
]""")
print(f"Python {sys.version.split()[0]} on {sys.platform}")
print("orders per customer:", dict(Counter(o["customer"] for o in orders)))
print("median total:", statistics.median(o["total"] for o in orders))
blob = json.dumps(orders).encode()
print(f"compressed {len(blob)} -> {len(zlib.compress(blob))} bytes")

# The value of the last expression is returned, as in a notebook:
max(orders, key=lambda o: o["total"])["customer"]
