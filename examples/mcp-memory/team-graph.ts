// A knowledge graph built in a loop: @modelcontextprotocol/server-memory, fed from a CSV
// of 48 people in the conversation's /workspace. Cell 1 loops over the rows creating
// entities and relations; cell 2 queries the graph. The same task by direct tool calls
// (the CSV in the user message, the model writing every entity and relation as call
// arguments) runs against a second memory server, so its tool results are real too;
// both graphs must end up the same.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { codeMode } from '../../adapters/code-mode.js';
import { build } from '../../compiler/build.js';
import { connectMcpServer, type McpServer } from '../../runtime/mcp.js';
import { packageRoot } from '../../runtime/package-root.js';
import { mcpText, runMain } from '../shared/main.js';
import { compare, Transcript } from '../shared/transcript.js';

const TEAMS = ['platform', 'payments', 'search', 'mobile', 'data', 'security'];
const SKILLS = ['python', 'rust', 'go', 'typescript', 'sql', 'kubernetes', 'ml', 'swift'];
const FIRST = ['Ada', 'Ben', 'Chen', 'Dara', 'Eli', 'Fay', 'Gus', 'Hana', 'Ivo', 'Jun', 'Kai', 'Lea'];
const LAST = ['Novak', 'Okafor', 'Park', 'Quinn'];

interface Person {
  name: string;
  team: string;
  role: string;
  skills: string[];
  manager: string;
}

/** 48 people, 8 per team; the first of each team leads it. Deterministic. */
export function makeTeam(): Person[] {
  let seed = 11;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  return Array.from({ length: 48 }, (_, i) => {
    const team = TEAMS[i % TEAMS.length]!;
    const lead = i < TEAMS.length;
    const skills = SKILLS.filter(() => rnd() < 0.3).slice(0, 3);
    return {
      name: `${FIRST[i % FIRST.length]} ${LAST[Math.floor(i / FIRST.length)]}`,
      team,
      role: lead ? 'team lead' : rnd() < 0.5 ? 'engineer' : 'senior engineer',
      skills: skills.length ? skills : ['sql'],
      manager: lead ? '' : `${FIRST[i % TEAMS.length]} ${LAST[0]}`,
    };
  });
}

const csv = (people: Person[]) => `name,team,role,skills,manager\n${people.map((p) => [p.name, p.team, p.role, p.skills.join(';'), p.manager].join(',')).join('\n')}\n`;

const buildCell = `import csv
rows = list(csv.DictReader(open("/workspace/team.csv")))
for team in sorted({r["team"] for r in rows}):
    tools.create_entities(entities=[{"name": team, "entityType": "team", "observations": []}])
for r in rows:
    notes = [f"role: {r['role']}"] + [f"knows {s}" for s in r["skills"].split(";")]
    tools.create_entities(entities=[{"name": r["name"], "entityType": "person", "observations": notes}])
    links = [{"from": r["name"], "to": r["team"], "relationType": "works_in"}]
    if r["manager"]:
        links.append({"from": r["name"], "to": r["manager"], "relationType": "reports_to"})
    tools.create_relations(relations=links)
g = tools.read_graph()
print(len(g["entities"]), "entities,", len(g["relations"]), "relations")`;

const queryCell = `found = tools.search_nodes(query="knows rust")
names = sorted(e["name"] for e in found["entities"] if e["entityType"] == "person")
print(f"{len(names)} people know Rust:", ", ".join(names))`;

function memoryServer(file: string): Promise<McpServer> {
  const server = join(packageRoot(), 'node_modules', '@modelcontextprotocol', 'server-memory', 'dist', 'index.js');
  // The server takes its file from the environment; `env` sets it without touching ours.
  return connectMcpServer(['/usr/bin/env', `MEMORY_FILE_PATH=${file}`, process.execPath, server], { stderr: 'ignore' });
}

/** A graph as comparable text: entities with sorted observations, relations, both sorted. */
async function graphOf(mcp: McpServer): Promise<string> {
  const g = JSON.parse(mcpText(await mcp.handlers.read_graph!({}))) as { entities: { name: string; entityType: string; observations: string[] }[]; relations: { from: string; to: string; relationType: string }[] };
  return JSON.stringify({
    entities: g.entities.map((e) => `${e.name}|${e.entityType}|${[...e.observations].sort().join(';')}`).sort(),
    relations: g.relations.map((r) => `${r.from}|${r.relationType}|${r.to}`).sort(),
  });
}

export async function main() {
  const work = mkdtempSync(join(tmpdir(), 'tic-memory-example-'));
  const people = makeTeam();
  const codeMcp = await memoryServer(join(work, 'code-mode.jsonl'));
  const directMcp = await memoryServer(join(work, 'direct.jsonl'));
  try {
    writeFileSync(join(work, 'memory.json'), JSON.stringify(codeMcp.tools));
    await build({ inputs: [join(work, 'memory.json')], outDir: join(work, 'dist'), log: () => {} });
    const task = 'Build a knowledge graph of the team from team.csv (teams, people with their role and skills, who works in which team, who reports to whom), then tell me who knows Rust.';

    // Code mode: the CSV is in the conversation's workspace.
    const cm = await codeMode({ dir: join(work, 'dist'), handlers: codeMcp.handlers, workspace: join(work, 'workspaces'), warm: 0 });
    const conversation = cm.conversation({ id: 'team' });
    mkdirSync(join(work, 'workspaces', 'team'), { recursive: true });
    writeFileSync(join(work, 'workspaces', 'team', 'team.csv'), csv(people));
    const built = await conversation.run(buildCell);
    const queried = await conversation.run(queryCell);
    await cm.close();
    for (const r of [built, queried]) if (!r.ok) throw new Error(`a cell failed:\n${r.text}`);
    const answer = `The graph is built (${built.text.trim()}). ${queried.text.trim()}`;
    const t = cm.tool;
    const codeModeT = new Transcript([{ name: t.name, description: t.description, parameters: t.inputSchema }])
      .user(`${task}\nThe file is /workspace/team.csv.`)
      .assistant([{ name: t.name, arguments: { code: buildCell } }])
      .tool(built.text)
      .assistant([{ name: t.name, arguments: { code: queryCell } }])
      .tool(queried.text)
      .assistant(answer);

    // Direct calls: the CSV in the prompt; the model writes every entity and relation.
    const call = async (name: string, args: Record<string, unknown>) => mcpText(await directMcp.handlers[name]!(args));
    const directT = new Transcript(directMcp.tools.tools.map((x) => ({ name: x.name, description: x.description, parameters: x.inputSchema }))).user(`${task}\n\nteam.csv:\n${csv(people)}`);
    const entities = {
      entities: [
        ...[...new Set(people.map((p) => p.team))].sort().map((team) => ({ name: team, entityType: 'team', observations: [] })),
        ...people.map((p) => ({ name: p.name, entityType: 'person', observations: [`role: ${p.role}`, ...p.skills.map((s) => `knows ${s}`)] })),
      ],
    };
    directT.assistant([{ name: 'create_entities', arguments: entities }]).tool(await call('create_entities', entities));
    const relations = {
      relations: people.flatMap((p) => [{ from: p.name, to: p.team, relationType: 'works_in' }, ...(p.manager ? [{ from: p.name, to: p.manager, relationType: 'reports_to' }] : [])]),
    };
    directT.assistant([{ name: 'create_relations', arguments: relations }]).tool(await call('create_relations', relations));
    const query = { query: 'knows rust' };
    directT.assistant([{ name: 'search_nodes', arguments: query }]).tool(await call('search_nodes', query));
    directT.assistant(answer);

    // Both ways built the same graph, and the answer is right.
    if ((await graphOf(codeMcp)) !== (await graphOf(directMcp))) throw new Error('code mode and the direct calls built different graphs');
    const rust = people.filter((p) => p.skills.includes('rust')).map((p) => p.name).sort();
    if (!answer.includes(`${rust.length} people know Rust: ${rust.join(', ')}`)) throw new Error(`wrong answer: ${answer}`);
    const { lines, ratio } = compare(codeModeT, directT);
    return { ratio, answer, rust, lines: [answer, '', ...lines] };
  } finally {
    await codeMcp.close();
    await directMcp.close();
    rmSync(work, { recursive: true, force: true });
  }
}

runMain(import.meta.url, main);
