import re

log = """2024-03-01 ERROR disk full on /dev/sda1
2024-03-02 INFO backup done
2024-03-02 ERROR timeout after 30s
"""
pattern = re.compile(r"^(?P<date>\d{4}-\d{2}-\d{2}) (?P<level>[A-Z]+) (?P<msg>.*)$", re.M)
errors = [m.groupdict() for m in pattern.finditer(log) if m["level"] == "ERROR"]
print(errors)
print(re.sub(r"(\d+)s\b", lambda m: f"{int(m[1]) * 1000}ms", log.splitlines()[2]))
print(re.split(r"[,;]\s*", "a, b;c ,d"), re.findall(r"\b\w{4}\b", "this word is five long"))
