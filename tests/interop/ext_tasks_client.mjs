// The reference TypeScript Tasks requester (@modelcontextprotocol/ext-tasks) against an MCP server URL.
//
//   node ext_tasks_client.mjs URL TOOL JSON_ARGUMENTS
//
// Connects an SDK Client (2026-07-28 era, negotiated with server/discover), creates a task session with the
// package's raw V2 dispatch (a JSON-RPC POST to URL, as its README asks for a 2026-07-28 Tasks server), calls
// TOOL, settles the execution and prints one JSON line: whether it was a task and the result's first text.
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { createTaskSessionFromClient, resultFromTaskOutcome } from "@modelcontextprotocol/ext-tasks/client";

const [url, tool, argsJson] = process.argv.slice(2);
const VERSION = "2026-07-28";
const clientInfo = { name: "ext-tasks-interop", version: "1.0.0" };
const clientCapabilities = { extensions: { "io.modelcontextprotocol/tasks": {} } };
const seen = { methods: [] };

let nextId = 1;

// The package hands over method and params; the host frames the JSON-RPC request (id, version).
async function rawDispatch(unframed) {
  const request = { jsonrpc: "2.0", id: `ext-tasks-${nextId++}`, ...unframed };
  seen.methods.push(request.method);
  const headers = {
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
    "mcp-protocol-version": VERSION,
    "mcp-method": request.method,
  };
  const name = request.params?.taskId ?? request.params?.name;
  if (typeof name === "string") headers["mcp-name"] = name;
  const response = await fetch(url, { method: "POST", headers, body: JSON.stringify(request) });
  const text = await response.text();
  console.error(`> ${JSON.stringify(request)}\n< ${response.status} ${text}`);
  if ((response.headers.get("content-type") || "").includes("text/event-stream")) {
    for (const line of text.split("\n")) {
      if (!line.startsWith("data:")) continue;
      const message = JSON.parse(line.slice(5));
      if (message.id === request.id) return message;
    }
    throw new Error(`no answer to ${request.method} in the event stream`);
  }
  return JSON.parse(text);
}

const client = new Client(clientInfo, { capabilities: clientCapabilities, versionNegotiation: { mode: "auto" } });
await client.connect(new StreamableHTTPClientTransport(new URL(url)));
const session = createTaskSessionFromClient(client, {
  endpointId: "asyncmcp-interop",
  rawDispatch,
  v2RequestFraming: { protocolVersion: VERSION, clientInfo, clientCapabilities },
});
try {
  const execution = await session.callTool(tool, JSON.parse(argsJson));
  const { outcome } = await execution.settle();
  const result = resultFromTaskOutcome(outcome);
  console.log(
    JSON.stringify({
      era: client.getProtocolEra(),
      methods: seen.methods,
      text: result?.content?.[0]?.text ?? null,
      isError: result?.isError ?? null,
    }),
  );
} finally {
  await session.close();
  await client.close();
}
