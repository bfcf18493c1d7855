"""How numbers and shapes are written for people: 61,470 and 6×28×28."""


def count(n: int) -> str:
    return f"{n:,}"


def shape(s) -> str:
    if s is None:
        return "?"
    return "×".join(str(d) for d in s)


def si(n: float) -> str:
    """Short form for large counts: 1.2 M, 3.4 G."""
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:.1f} {unit}"
    return str(int(n))


def nbytes(n: float) -> str:
    """Bytes in decimal units, as their names say (1 MB = 1,000,000 bytes, as torchinfo counts)."""
    for unit, scale in (("GB", 10 ** 9), ("MB", 10 ** 6), ("KB", 10 ** 3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{int(n)} B"
