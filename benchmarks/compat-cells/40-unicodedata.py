import unicodedata

s = "Crème brûlée à la carte"
stripped = "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))
print(stripped)
print(unicodedata.name("€"), unicodedata.category("A"), len("é"), len(unicodedata.normalize("NFD", "é")))
slug = "-".join(stripped.lower().split())
print(slug)
