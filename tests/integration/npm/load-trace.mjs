// Load a --trace file with Chrome DevTools' trace engine, the parser
// behind its Performance panel, and print what it made of each thread
// as one line of JSON, last:
//   {"generic":true,"threads":{"PID:TID":{"name":"...","entries":N}}}
// (entries: the complete events it placed on that thread's tree).
// Usage: node load-trace.mjs FILE
import {analyzeTrace} from '@paulirish/trace_engine/analyze-trace.mjs';

const {parsedTrace} = await analyzeTrace(process.argv[2]);
const threads = {};

for (const [pid, proc] of parsedTrace.data.Renderer.processes) {
	for (const [tid, t] of proc.threads)
		threads[pid + ':' + tid] = {name: t.name ?? null,
		    entries: t.entries.length};
}
console.log(JSON.stringify({generic: parsedTrace.data.Meta.traceIsGeneric,
    threads}));
