import sqlite3

con = sqlite3.connect(":memory:")
con.execute("create table sales (region text, amount real)")
con.executemany("insert into sales values (?, ?)", [("north", 10.5), ("south", 3.0), ("north", 4.5), ("east", 7.25)])
for row in con.execute("select region, sum(amount), count(*) from sales group by region order by 2 desc"):
    print(row)
con.row_factory = sqlite3.Row
r = con.execute("select max(amount) as top from sales").fetchone()
print(r["top"])
con.close()
