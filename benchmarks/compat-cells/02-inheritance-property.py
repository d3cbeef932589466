class Shape:
    def area(self):
        raise NotImplementedError

    def describe(self):
        return f"{type(self).__name__} with area {self.area():.2f}"

class Rect(Shape):
    def __init__(self, w, h):
        self.w, self.h = w, h

    def area(self):
        return self.w * self.h

class Square(Rect):
    def __init__(self, side):
        super().__init__(side, side)

    @property
    def side(self):
        return self.w

shapes = [Rect(2, 3.5), Square(4)]
for s in shapes:
    print(s.describe())
print(shapes[1].side, isinstance(shapes[1], Rect), Square.__mro__[1].__name__)
