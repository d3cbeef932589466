class ValidationError(Exception):
    def __init__(self, field, problem):
        super().__init__(f"{field}: {problem}")
        self.field = field

def parse_age(text):
    try:
        age = int(text)
    except ValueError as e:
        raise ValidationError("age", "not a number") from e
    if age < 0:
        raise ValidationError("age", "negative")
    return age

log = []
for t in ["42", "x", "-3"]:
    try:
        log.append(parse_age(t))
    except ValidationError as e:
        log.append(f"{e} (cause: {type(e.__cause__).__name__})")
    finally:
        log.append("checked")
print(log)
