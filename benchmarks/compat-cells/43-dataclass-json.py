import json
from dataclasses import dataclass, asdict, field

@dataclass
class Task:
    title: str
    done: bool = False
    subtasks: list["Task"] = field(default_factory=list)

    def progress(self):
        if not self.subtasks:
            return 1.0 if self.done else 0.0
        return sum(t.progress() for t in self.subtasks) / len(self.subtasks)

root = Task("release", subtasks=[Task("tests", True), Task("docs"), Task("build", subtasks=[Task("linux", True), Task("mac")])])
print(round(root.progress(), 3))
print(json.dumps(asdict(root))[:90])
