import textwrap

s = "  Hello, World! Hello again.  "
print(s.strip().lower().replace("hello", "bye"), s.count("Hello"))
print("key=value=x".partition("="), "a,b,,c".split(","), "-".join(["2024", "01", "02"]))
print("title case here".title(), "ß".upper(), "abc".center(9, "*"), "42".zfill(5))
print(textwrap.fill("The quick brown fox jumps over the lazy dog again and again.", width=20))
print("Straße".casefold() == "STRASSE".casefold(), "tab\tsep".expandtabs(4), repr("quote's"))
