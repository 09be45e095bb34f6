"""mcpbind's generator: MCP schema revisions -> `mcpbind.generated`.

Pipeline: `fetch` verifies the pinned upstream files into `schema/cache/`; `source` applies the
revision's errata and overrides (data in `schema/`); `build` turns the corrected schema into a small
intermediate representation (`model`); `render` emits it through jinja2 templates and formats it.
Adding a revision is a pin entry (plus errata/overrides where upstream needs them), not code.

datamodel-code-generator is not used to emit bindings. Its msgspec output, with every relevant flag,
decodes only 64 of the 129 official 2026-07-28 examples: untagged Struct unions poison whole type
graphs, the recursive `JSONValue` alias is unsupported, unknown keys and all `_meta` content are
dropped, inline objects get unstable names (`Params1..Params28`) and required fields are reordered.
It serves instead as an independent cross-check in the tests: its parse of each corrected schema must
agree with ours on every definition's members and which of them are required.
"""
