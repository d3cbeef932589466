import json, os

def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError as e:
        print("missing:", e)
    except json.JSONDecodeError as e:
        print("bad json:", e)
    return None

with open("bad.json", "w") as f:
    f.write("{not json")
load("config.json")
load("bad.json")
try:
    os.remove("config.json")
except OSError as e:
    print(type(e).__name__, e.errno, e.strerror)
