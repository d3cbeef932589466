memo = {}

def ways(n, coins):
    if n == 0:
        return 1
    if n < 0 or not coins:
        return 0
    key = (n, len(coins))
    if key not in memo:
        memo[key] = ways(n - coins[0], coins) + ways(n, coins[1:])
    return memo[key]

def depth(tree):
    return 1 + max((depth(c) for c in tree.get("children", [])), default=0)

print(ways(100, [50, 25, 10, 5, 1]), len(memo))
print(depth({"children": [{"children": [{}]}, {}]}))
