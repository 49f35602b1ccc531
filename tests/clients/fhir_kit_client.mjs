// Drives the service with fhir-kit-client (npm, pinned in package-lock.json) through its documented API, and
// prints what each step saw as one JSON object: {"<step>": {"ok": {...}} | {"error": {"status", "data"}}}.
// tests/clients/test_fhir_kit_client.py runs it and asserts; nothing is asserted here, so every step runs.
//
// Input (JSON on stdin, from the test): baseUrl, token, system (of the identifiers it gives what it creates),
// plan and goal (conforming resources without id or identifier), transaction and refusedTransaction (Bundles).

import { readFileSync } from 'node:fs';
import { CapabilityTool, Client } from 'fhir-kit-client';

const input = JSON.parse(readFileSync(0, 'utf8'));
const client = new Client({ baseUrl: input.baseUrl, bearerToken: input.token });
const { system } = input;

/** A copy of `resource` with the identifier `system|value` and `changes`. */
function withIdentifier(resource, value, changes = {}) {
  return { ...structuredClone(resource), identifier: [{ system, value }], ...changes };
}

/** The status and a header of the HTTP answer behind a result of fhir-kit-client. */
function http(result, header) {
  const { response } = Client.httpFor(result);
  return { status: response?.status, [header]: response?.headers.get(header) };
}

/** Every Bundle from `first` on, with fhir-kit-client's nextPage. */
async function allPages(first) {
  const bundles = [];
  for (let bundle = first; bundle; bundle = await client.nextPage({ bundle })) {
    bundles.push(bundle);
    if (bundles.length > 50) throw new Error('more than 50 pages: the next links go round');
  }
  return bundles;
}

const ids = (bundle, mode) =>
  (bundle.entry ?? []).filter((e) => !mode || e.search?.mode === mode).map((e) => `${e.resource.resourceType}/${e.resource.id}`);

const steps = {
  async capability() {
    const statement = await client.capabilityStatement();
    const tool = new CapabilityTool(statement);
    return {
      fhirVersion: statement.fhirVersion,
      carePlanInteractions: tool.interactionsFor({ resourceType: 'CarePlan' }),
      carePlanSearch: tool.searchParamsFor({ resourceType: 'CarePlan' }),
    };
  },

  async crud() {
    const made = await client.create({ resourceType: 'CarePlan', body: withIdentifier(input.plan, 'crud') });
    const created = { ...http(made, 'etag'), location: http(made, 'location').location, id: made.id };
    const read = await client.read({ resourceType: 'CarePlan', id: made.id });
    const etag = http(read, 'etag').etag;
    const changed = { ...read, description: 'Endret med fhir-kit-client' };
    const updated = await client.update({
      resourceType: 'CarePlan', id: made.id, body: changed, options: { headers: { 'If-Match': etag } },
    });
    let stale;
    try {
      await client.update({
        resourceType: 'CarePlan', id: made.id, body: { ...read, description: 'Basert på versjon 1' },
        options: { headers: { 'If-Match': etag } },
      });
      stale = { status: 'accepted' };
    } catch (error) {
      stale = { status: error.response?.status };
    }
    const first = await client.vread({ resourceType: 'CarePlan', id: made.id, version: '1' });
    const second = await client.vread({ resourceType: 'CarePlan', id: made.id, version: '2' });
    const history = await client.history({ resourceType: 'CarePlan', id: made.id });
    return {
      created,
      read: { id: read.id, versionId: read.meta.versionId, etag },
      updated: { ...http(updated, 'etag'), versionId: updated.meta?.versionId, description: updated.description },
      stale,
      vread: [first.meta.versionId, second.meta.versionId, first.description ?? null, second.description],
      history: {
        type: history.type,
        total: history.total,
        versions: history.entry.map((e) => e.resource.meta.versionId),
        statuses: history.entry.map((e) => e.response?.status),
      },
    };
  },

  async paging() {
    const values = [0, 1, 2, 3, 4].map((n) => `paged-${n}`);
    const made = [];
    for (const value of values) {
      made.push((await client.create({ resourceType: 'CarePlan', body: withIdentifier(input.plan, value) })).id);
    }
    const first = await client.search({
      resourceType: 'CarePlan',
      searchParams: { identifier: values.map((v) => `${system}|${v}`).join(','), _count: '2' },
    });
    const bundles = await allPages(first);
    return {
      made: made.map((id) => `CarePlan/${id}`),
      sizes: bundles.map((b) => (b.entry ?? []).length),
      totals: bundles.map((b) => b.total),
      found: bundles.flatMap((b) => ids(b)),
    };
  },

  async include() {
    const goal = await client.create({ resourceType: 'Goal', body: withIdentifier(input.goal, 'include') });
    const plan = await client.create({
      resourceType: 'CarePlan',
      body: withIdentifier(input.plan, 'include', { goal: [{ reference: `Goal/${goal.id}` }] }),
    });
    const included = await client.search({
      resourceType: 'CarePlan', searchParams: { _id: plan.id, _include: ['CarePlan:goal', 'CarePlan:patient'] },
    });
    const reverse = await client.search({
      resourceType: 'Patient', searchParams: { _id: 'pasient-ola', _revinclude: 'CarePlan:patient' },
    });
    return {
      plan: `CarePlan/${plan.id}`,
      goal: `Goal/${goal.id}`,
      matches: ids(included, 'match'),
      included: ids(included, 'include'),
      reverseMatches: ids(reverse, 'match'),
      reverseIncluded: ids(reverse, 'include'),
    };
  },

  async conditional() {
    const condition = { headers: { 'If-None-Exist': `identifier=${system}|conditional` } };
    const body = withIdentifier(input.plan, 'conditional');
    const first = await client.create({ resourceType: 'CarePlan', body, options: condition });
    const again = await client.create({ resourceType: 'CarePlan', body, options: condition });
    const found = await client.search({ resourceType: 'CarePlan', searchParams: { identifier: `${system}|conditional` } });
    return { first: { id: first.id, ...http(first, 'etag') }, again: { id: again.id, ...http(again, 'etag') }, total: found.total };
  },

  async transaction() {
    const answer = await client.transaction({ body: input.transaction });
    const planLocation = answer.entry?.[1]?.response?.location ?? '';
    const planId = planLocation.match(/CarePlan\/([^/]+)/)?.[1];
    const plan = planId ? await client.read({ resourceType: 'CarePlan', id: planId }) : null;
    return { answer, planGoal: plan?.goal ?? null };
  },

  async refusedTransaction() {
    let refused;
    try {
      await client.transaction({ body: input.refusedTransaction });
      refused = { status: 'accepted' };
    } catch (error) {
      refused = { status: error.response?.status };
    }
    const value = input.refusedTransaction.entry[0].resource.identifier[0].value;
    const totals = {};
    for (const resourceType of ['Goal', 'CarePlan']) {
      totals[resourceType] = (await client.search({ resourceType, searchParams: { identifier: `${system}|${value}` } })).total;
    }
    return { refused, totals };
  },

  async typeHistory() {
    const made = await client.create({ resourceType: 'CarePlan', body: withIdentifier(input.plan, 'type-history') });
    const bundles = await allPages(await client.history({ resourceType: 'CarePlan' }));
    return {
      made: `CarePlan/${made.id}`,
      types: [...new Set(bundles.map((b) => b.type))],
      entries: bundles.flatMap((b) => (b.entry ?? []).map((e) => ({
        resource: `${e.resource?.resourceType}/${e.resource?.id}`, method: e.request?.method,
      }))),
    };
  },
};

/** An error's body as text (fhir-kit-client gives it parsed when it was JSON). */
const text = (data) => (typeof data === 'string' ? data : JSON.stringify(data));

const report = {};
for (const [name, step] of Object.entries(steps)) {
  try {
    report[name] = { ok: await step() };
  } catch (error) {
    report[name] = error.response
      ? { error: { status: error.response.status, data: text(error.response.data).slice(0, 2000) } }
      : { error: { thrown: String(error.stack ?? error) } };
  }
}
process.stdout.write(JSON.stringify(report));
