"""A tool that asks the user before it acts. On 2026-07-28 it runs again from the start once the answer
comes, so what it did before asking is kept in `ctx.carried` (sealed in `requestState`)."""

from dataclasses import dataclass

from mcpbind.server import Context, Server

server = Server("orders", "1.0.0")
orders_placed: list[str] = []  # the side effect that must not happen twice


@dataclass
class Confirm:
    pay: bool


@server.tool()
async def order(item: str, ctx: Context) -> str:
    """Place an order for `item`, then ask whether to pay for it now."""
    if "order_id" not in ctx.carried:  # first round only: later rounds find it carried
        orders_placed.append(item)
        ctx.carried["order_id"] = f"order-{len(orders_placed)}"
    order_id = ctx.carried["order_id"]
    answer = await ctx.elicit(f"Pay for {order_id} ({item}) now?", Confirm)
    paid = answer.action == "accept" and answer.content is not None and answer.content.pay
    return f"{order_id}: {'paid' if paid else 'to pay later'}"


if __name__ == "__main__":
    server.run()
