"""Drives `billguard serve` with the Python MCP SDK's stdio client.

Run by tests/mcp_python_client.rs: python mcp_client_check.py BILLGUARD_BINARY REPO.
REPO holds access fixtures under fx/, a production env file with a test key and
a webhook handler change against HEAD. Every tool's structuredContent is
validated against that tool's outputSchema with jsonschema. Prints one line
`ok: ...` per check and exits non-zero on the first failure.
"""

import asyncio
import copy
import json
import sys

import jsonschema
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.shared.exceptions import MCPError

EXPECTED_TOOLS = ["check_access_contract", "check_all", "check_key_mode", "diff_webhook_handler"]


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def validate(schema, instance, what):
    """Validates instance against schema (draft from its $schema); returns the errors."""
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return [f"{what}: {'/'.join(map(str, e.absolute_path))}: {e.message}" for e in cls(schema).iter_errors(instance)]


async def main(binary, repo):
    params = StdioServerParameters(command=binary, args=["serve", "--repo", repo], env={"BILLGUARD_LOG": "warn"})
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            check(init.server_info.name == "billguard", f"server name {init.server_info.name}")
            caps = init.capabilities
            check(caps.tools is not None and caps.prompts is not None and caps.resources is not None, f"capabilities {caps}")
            check("check_all" in (init.instructions or ""), "instructions mention check_all")
            print(f"ok: initialize ({init.protocol_version}, {init.server_info.name} {init.server_info.version})")

            tools = {t.name: t for t in (await session.list_tools()).tools}
            check(sorted(tools) == EXPECTED_TOOLS, f"tools {sorted(tools)}")
            for t in tools.values():
                check(t.output_schema is not None and t.output_schema.get("type") == "object", f"{t.name} outputSchema")
                check(t.annotations is not None and t.annotations.read_only_hint is True, f"{t.name} readOnlyHint")
            print(f"ok: tools/list {sorted(tools)}")

            calls = [
                ("check_access_contract", {"fixtures_dir": "fx"}, lambda r: r["summary"]["by_rule"].get("ACC001") == 1),
                ("check_key_mode", {}, lambda r: r["summary"]["by_rule"].get("KEY001", 0) >= 1),
                ("diff_webhook_handler", {"base": "HEAD"}, lambda r: "WH006" in r["summary"]["by_rule"]),
                (
                    "check_all",
                    {"fixtures_dir": "fx", "base": "HEAD"},
                    lambda r: r["complete"] and all(r["sections"][s]["status"] == "ran" for s in ("access", "keys", "webhook")),
                ),
                ("check_all", {"max_findings": 1}, lambda r: r["sections"]["access"]["status"] == "skipped"),
            ]
            for name, args, expect in calls:
                result = await session.call_tool(name, args)
                text = " ".join(c.text for c in result.content if getattr(c, "type", None) == "text")
                check(not result.is_error, f"{name} {args}: isError: {text}")
                data = result.structured_content
                check(isinstance(data, dict), f"{name}: structuredContent is an object")
                errors = validate(tools[name].output_schema, data, name)
                check(not errors, "\n".join(errors))
                check(data["tool"] == name, f"{name}: tool field {data['tool']}")
                check(data["verdict"] == "fail", f"{name} {args}: verdict {data['verdict']}")
                check(expect(data), f"{name} {args}: unexpected result {json.dumps(data)[:2000]}")
                # The validation can fail: a result without its verdict, or with a bad one, must not pass.
                broken = copy.deepcopy(data)
                del broken["verdict"]
                check(validate(tools[name].output_schema, broken, name), f"{name}: schema accepted a result without verdict")
                broken["verdict"] = "maybe"
                check(validate(tools[name].output_schema, broken, name), f"{name}: schema accepted verdict 'maybe'")
                print(f"ok: tools/call {name} {json.dumps(args)} -> {data['verdict']}, valid against outputSchema")

            bad = await session.call_tool("check_access_contract", {"fixtures_dir": "does-not-exist"})
            check(bad.is_error, "a missing fixtures dir is an isError result")
            print("ok: expected failure is isError")

            prompts = (await session.list_prompts()).prompts
            check([p.name for p in prompts] == ["pre_pr_billing_check"], f"prompts {prompts}")
            check([(a.name, a.required) for a in prompts[0].arguments or []] == [("base", False)], f"prompt arguments {prompts[0].arguments}")
            got = await session.get_prompt("pre_pr_billing_check", {"base": "origin/main"})
            text = "\n".join(m.content.text for m in got.messages)
            for needle in ("check_all", "origin/main", "high", "pass or warn", "Never paste secrets"):
                check(needle in text, f"prompt lacks {needle!r}")
            print(f"ok: prompts/list and prompts/get ({len(got.messages)} message(s))")

            resources = (await session.list_resources()).resources
            uris = [str(r.uri) for r in resources]
            check("billguard://rules/ACC001" in uris and "billguard://rules/WH004" in uris, f"resources {uris[:5]}")
            templates = (await session.list_resource_templates()).resource_templates
            check([t.uri_template for t in templates] == ["billguard://rules/{code}"], f"templates {templates}")
            read = await session.read_resource("billguard://rules/KEY001")
            content = read.contents[0]
            check(content.mime_type == "text/markdown" and content.text.startswith("# KEY001"), f"resource {content}")
            try:
                await session.read_resource("billguard://rules/NOPE1")
                check(False, "an unknown rule must be an error")
            except MCPError as e:
                check(e.code == -32002 and "billguard://rules/ACC001" in e.message, f"unknown rule error {e.code} {e.message}")
            print(f"ok: resources/list ({len(uris)}), resources/templates/list, resources/read (known and unknown)")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: mcp_client_check.py BILLGUARD_BINARY REPO")
    try:
        asyncio.run(main(sys.argv[1], sys.argv[2]))
    except AssertionError as e:
        print(f"FAILED: {e}", file=sys.stderr)
        sys.exit(1)
    print("all checks passed")
