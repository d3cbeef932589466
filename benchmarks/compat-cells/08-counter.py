from collections import Counter

text = "the quick brown fox jumps over the lazy dog the end"
words = Counter(text.split())
print(words.most_common(2))
letters = Counter(c for c in text if c.isalpha())
print(sorted(letters.items(), key=lambda kv: (-kv[1], kv[0]))[:5])
print(words["the"], words["missing"], sum(words.values()))
