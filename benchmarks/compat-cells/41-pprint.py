from pprint import pformat, pprint

config = {"service": {"name": "api", "ports": [8080, 8443], "env": {"DEBUG": False, "WORKERS": 4}},
          "features": ["auth", "cache", "metrics", "tracing"], "version": "1.4.2"}
pprint(config, width=50)
print(pformat(list(range(30)), compact=True, width=40))
