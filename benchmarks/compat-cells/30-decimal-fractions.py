from decimal import Decimal, ROUND_HALF_UP
from fractions import Fraction
import math

price = Decimal("19.995")
print(price.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), Decimal("0.1") + Decimal("0.2"))
print(Fraction(3, 4) + Fraction(1, 6), Fraction("0.125"))
print(round(2.5), round(3.5), round(2.675, 2), 0.1 + 0.2)
print(math.isclose(0.1 + 0.2, 0.3), math.floor(-2.5), math.gcd(84, 36), math.comb(10, 3), math.sqrt(2))
