from datetime import datetime, timezone
from zoneinfo import ZoneInfo

t = datetime(2024, 7, 1, 12, 0, tzinfo=timezone.utc)
for name in ["Europe/Oslo", "America/New_York", "Asia/Tokyo"]:
    local = t.astimezone(ZoneInfo(name))
    print(name, local.isoformat(), local.tzname())
winter = datetime(2024, 1, 15, 9, 0, tzinfo=ZoneInfo("Europe/Oslo"))
print(winter.utcoffset(), winter.astimezone(timezone.utc).strftime("%H:%M"))
