# One cell instead of ~20 tool calls: page through every open issue, find the unlabelled
# crashes, label them, and print only the summary the model needs.
# Run it with: npm run demo
from collections import Counter

repo = "acme/widgets"
issues, page = [], 1
while page:
    result = tools.list_issues(repo, page=page, per_page=50)
    issues += result["issues"]
    page = result["next_page"]

crashes = [i for i in issues if "crash" in i["title"] and not i["labels"]]
for issue in crashes:
    tools.add_label(repo, issue["number"], "bug")

print(f"{len(issues)} open issues; labelled {len(crashes)} unlabelled crashes as bug")
print("most discussed:", max(issues, key=lambda i: i["comments"])["title"])
Counter(label for i in issues for label in i["labels"]).most_common(2)
