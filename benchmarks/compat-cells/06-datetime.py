from datetime import date, datetime, timedelta

start = datetime(2024, 2, 27, 22, 30)
end = start + timedelta(days=3, hours=5)
print(end.isoformat(), end.strftime("%A %d %B %Y %H:%M"))
print((end - start).total_seconds() / 3600)
d = date.fromisoformat("2024-12-31")
print(d.weekday(), d.isocalendar()[1], (d - date(2024, 1, 1)).days)
print(datetime.strptime("03/04/2025 07:05", "%m/%d/%Y %H:%M"))
