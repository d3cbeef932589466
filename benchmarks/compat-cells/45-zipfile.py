import zipfile

with zipfile.ZipFile("bundle.zip", "w", compression=zipfile.ZIP_DEFLATED) as z:
    z.writestr("a.txt", "alpha " * 100)
    z.writestr("dir/b.json", '{"b": 2}')
with zipfile.ZipFile("bundle.zip") as z:
    print(sorted(z.namelist()))
    print(z.read("dir/b.json").decode(), len(z.read("a.txt")))
    print(z.getinfo("a.txt").compress_size < 600)
