"""Rates such as "600/min": read where the settings are, so that a wrong one stops startup."""

from dataclasses import dataclass

PERIODS = {
    **dict.fromkeys(("s", "sec", "second"), 1),
    **dict.fromkeys(("m", "min", "minute"), 60),
    **dict.fromkeys(("h", "hour"), 3600),
    **dict.fromkeys(("d", "day"), 86400),
}


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> "Rate":
        """Read "600/min", "5/hour", "30/10min" (a number before the period multiplies it)."""
        count, _slash, period = text.partition("/")
        digits = "".join(character for character in period if character.isdigit())
        unit = period[len(digits) :]
        if not count.strip().isdigit() or unit not in PERIODS:
            raise ValueError(f"{text!r} is not a rate such as 600/min or 5/hour")
        rate = cls(int(count), int(digits or 1) * PERIODS[unit])
        if rate.count < 1 or rate.seconds < 1:
            # 0/min would refuse every request (and 5/0min count over no time at all).
            raise ValueError(f"{text!r} allows no request: a rate counts at least 1 request over at least 1 second")
        return rate
