"""Typed content and results: content blocks built by helpers, a dataclass as a structured result."""

import base64
from dataclasses import dataclass

from mcpbind.generated import latest
from mcpbind.server import Server
from mcpbind.server import content as c

server = Server("content", "1.0.0")

# A 1x1 PNG: `c.image("chart.png")` reads a file and guesses its type instead.
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


@dataclass
class Forecast:
    city: str
    celsius: float
    sunny: bool


@server.tool()
def forecast(city: str) -> Forecast:
    """Tomorrow's weather: a structured result, its output schema made from `Forecast`."""
    return Forecast(city=city, celsius=21.5, sunny=True)


@server.tool()
def chart(city: str) -> list[latest.ContentBlock]:
    """A chart of the week, with a caption and the data it was drawn from."""
    return [
        c.text(f"The week in {city}"),
        c.image(PIXEL, "image/png"),  # base64 and the MIME type handled
        c.embedded(f"weather://{city}/week.csv", "day,celsius\nmon,20\n", "text/csv"),
    ]


if __name__ == "__main__":
    server.run()
