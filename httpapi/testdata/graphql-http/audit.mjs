// Runs graphql-http's audit suite against the GraphQL endpoint in argv[2],
// sending the bearer token in argv[3] (if any), and prints the results as
// one JSON array: [{id, name, status, reason}]. status is "ok", or "error"
// for a failed MUST, "warn" for a failed SHOULD, "notice" for a failed MAY.
import { auditServer } from 'graphql-http';

const [url, token] = process.argv.slice(2);
const fetchFn = (input, init = {}) => {
  const headers = new Headers(init.headers);
  if (token) headers.set('authorization', `Bearer ${token}`);
  return fetch(input, { ...init, headers });
};
const results = await auditServer({ url, fetchFn });
process.stdout.write(JSON.stringify(results.map((r) => ({
  id: r.id, name: r.name, status: r.status, reason: r.reason ?? '',
}))));
