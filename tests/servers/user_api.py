"""A server written as a user of the high-level API writes one: the hints and helpers users bring
from other Python MCP servers (tests/e2e/test_user_api.py runs it over stdio)."""

from __future__ import annotations

import dataclasses
from typing import Annotated, TypedDict

import msgspec
import pydantic

from mcpbind.generated import latest as mcp
from mcpbind.server import Context, Server, content

server = Server(
    "user-api", "1.0.0", implementation={"title": "User API", "websiteUrl": "https://example.invalid"}
)


class Item(pydantic.BaseModel):
    name: str
    count: int = 1


@server.tool()
def restock(items: list[Item], extra: Item | None = None) -> list[Item]:
    """Items in a list, one optional: pydantic models inside other hints."""
    return [Item(name=i.name, count=i.count + 1) for i in [*items, *([extra] if extra else [])]]


class Ticket(pydantic.BaseModel):
    seat: int

    @pydantic.field_validator("seat")
    @classmethod
    def _seat(cls, seat: int) -> int:
        if seat == 13:
            raise TypeError("there is no seat 13")  # (no ValueError: pydantic lets it through)
        return seat


@server.tool()
def book(ticket: Ticket) -> str:
    """A model whose own validator raises what is no validation error."""
    return f"seat {ticket.seat}"


def _no_seat_13(seat: int) -> int:
    if seat == 13:
        raise TypeError("there is no seat 13")  # (no ValueError: pydantic lets it through)
    return seat


@server.prompt()
def seat_prompt(seat: Annotated[int, pydantic.Field(ge=1), pydantic.AfterValidator(_no_seat_13)]) -> str:
    """A prompt whose argument's own validator raises what is no validation error."""
    return f"Show me seat {seat}"


class SeatNumber(pydantic.RootModel[int]):
    @pydantic.field_validator("root")
    @classmethod
    def _seat(cls, seat: int) -> int:
        return _no_seat_13(seat)


@server.resource("seats://{seat}")
def seat_plan(seat: SeatNumber) -> str:
    """A template variable whose type's own validator raises what is no validation error."""
    return f"seat {seat.root}"


def _one_word(text: str) -> str:
    if " " in text:
        raise ValueError(f"not one word: {text}")  # (the whole value, as validators often say it)
    return text


OneWord = Annotated[str, pydantic.Field(min_length=1), pydantic.AfterValidator(_one_word)]


@server.tool()
def tag(word: OneWord) -> str:
    """A validator whose message holds the whole value it refused."""
    return f"#{word}"


@server.prompt()
def tagged(word: OneWord) -> str:
    """The same validator on a prompt's argument."""
    return f"Posts tagged #{word}"


@server.tool()
def step(n: pydantic.PositiveInt, word: Annotated[str, pydantic.AfterValidator(_one_word)] = "go") -> str:
    """pydantic's constrained types and a validator in Annotated, with no Field beside them."""
    return f"{word} {n}"


@server.prompt()
def steps(n: pydantic.PositiveInt) -> str:
    return f"Take {n} steps"


class Airport(pydantic.RootModel[Annotated[str, pydantic.StringConstraints(pattern=r"^[A-Z]{3}$")]]):
    """A string-rooted model, constrained."""


@server.prompt()
def trip(origin: Airport, luggage: Item | None = None) -> str:
    """Prompt arguments (text) of a string-rooted model, and of a model given as its JSON text."""
    return f"From {origin.root}" + (f" with {luggage.count} {luggage.name}" if luggage else "")


@server.resource("rows://{row}")
def row(row: Annotated[int, pydantic.Field(ge=1, le=100)]) -> str:
    """A template variable constrained with pydantic's Field."""
    return f"row {row}"


@server.tool()
def find(name: str) -> Item | None:
    return Item(name=name) if name else None


@server.tool()
def forecast(
    city: Annotated[str, pydantic.Field(description="The city")],
    days: Annotated[int, pydantic.Field(ge=1, le=7, description="How many days")] = 3,
    units: str = pydantic.Field("metric", description="metric or imperial"),
) -> str:
    """Parameters described the way pydantic users describe them."""
    return f"{city}: {days} days, {units}"


@server.tool()
def loose(name: str):  # type: ignore[no-untyped-def]  # (no annotation: what the value is decides)
    """A model returned by a tool with no return annotation: its JSON as text."""
    return Item(name=name)


@server.tool
def shout(text: str) -> str:
    """Registered with the decorator uncalled."""
    return text.upper()


@server.prompt
def hello(name: str, times: Annotated[int, pydantic.Field(ge=1, description="How often")] = 1) -> str:
    return f"Say hello to {name}" + "!" * (times - 1)


@server.tool()
async def summarize(text: str, ctx: Context) -> str:
    """Asks the client's model with a text alone, and with a list of a text and a content block."""
    first = await ctx.sample(f"Summarize: {text}")
    again = await ctx.sample(["Shorter:", content.text(first.content.text)], max_tokens=10)
    return str(again.content.text)


@server.tool()
async def confirm(ctx: Context) -> str:
    """Asks the user to confirm, with no form to fill."""
    answer = await ctx.elicit("Go ahead?")
    return f"{answer.action} with {answer.content}" if answer.content else answer.action


@dataclasses.dataclass
class Booking:
    """An elicitation form whose members carry pydantic's constraints and msgspec's."""

    seats: Annotated[int, pydantic.Field(ge=1, le=8, description="How many seats")]
    nights: Annotated[int, msgspec.Meta(ge=1)] = 1


class Guest(TypedDict):
    name: Annotated[str, pydantic.Field(min_length=2)]


@server.tool()
async def reserve(ctx: Context) -> str:
    """Asks for a booking, then a guest's name: what comes back holds to the forms' constraints."""
    booking = await ctx.elicit("How many?", Booking)
    guest = await ctx.elicit("Who?", Guest)
    assert booking.content is not None and guest.content is not None
    return f"{booking.content.seats} seats, {booking.content.nights} nights, for {guest.content['name']}"


@server.tool()
def graded(score: int) -> mcp.CallToolResult:
    """Builds its whole result: its `_meta`, and `isError` without raising."""
    return mcp.CallToolResult(
        content=[mcp.TextContent(text=f"score {score}")],
        is_error=score < 50,
        meta=mcp.ResultMetaObject(grader="v2"),
    )


@server.resource("users://{org}/{user}/profile")
def profile(org: str, user: str) -> dict[str, str]:
    """A template of two variables whose value is JSON data."""
    return {"org": org, "user": user}


@server.resource("orders://{order_id}/lines/{line}")
def order_line(order_id: int, line: int) -> str:
    """Variables typed as the function's parameters."""
    return f"order {order_id + 1000}, line {line * 10}"


@server.resource("repos://{+repo}/blob/{+path}/raw")
def blob(repo: str, path: str) -> str:
    """Two variables that may span segments."""
    return f"{repo}: {path}"


@server.resource("session://client")
def client_name(ctx: Context) -> str:
    """A resource with no variable that takes the request's Context."""
    return str(ctx.client_info.get("name"))


@server.resource("items://first")
def first_item() -> Item:
    return Item(name="first")


@server.tool()
async def look(uri: str, ctx: Context) -> str:
    """Reads one of the server's resources, logs at each level by name, says who asked."""
    await ctx.debug("d")
    await ctx.info("i", logger="look")
    await ctx.warning("w")
    await ctx.error("e")
    await ctx.report_progress(1, 1, "read")
    contents = await ctx.read_resource(uri)
    text = getattr(contents[0], "text", "")
    return f"{ctx.client_info.get('name')}/{ctx.client_info.get('version')}: {text}"


@server.prompt()
def chat(topic: str) -> list[mcp.PromptMessage | dict[str, object]]:
    """Messages as the generated type, and as a dict holding a content helper's block."""
    return [
        mcp.PromptMessage(role="user", content=mcp.TextContent(text=f"Tell me about {topic}")),
        {"role": "assistant", "content": content.text("Gladly.")},
    ]


if __name__ == "__main__":
    import sys

    if len(sys.argv) == 3 and sys.argv[1] == "http-on":  # served as its keywords say (a test's port)
        server.run(transport="streamable-http", port=int(sys.argv[2]))
    else:
        server.run()
