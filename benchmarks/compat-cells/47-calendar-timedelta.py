import calendar
from datetime import date, timedelta

print(calendar.monthrange(2024, 2), calendar.isleap(2100), calendar.day_name[0])

def business_days(start, end):
    d, n = start, 0
    while d <= end:
        if d.weekday() < 5:
            n += 1
        d += timedelta(days=1)
    return n

print(business_days(date(2024, 3, 1), date(2024, 3, 31)))
print(str(timedelta(hours=50, minutes=7)), timedelta(days=1) // timedelta(minutes=30))
