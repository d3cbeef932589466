import json

data = {"name": "report", "values": [1, 2.5, None, True], "nested": {"b": 2, "a": 1}}
text = json.dumps(data, sort_keys=True)
print(text)
back = json.loads(text)
print(back["nested"], back["values"][2] is None)
print(json.dumps({"k": "é", "n": [1, 2]}, indent=2, ensure_ascii=False))
