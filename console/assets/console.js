// The admin console: GraphiQL, with the staff token and access purpose
// sent as headers on every request. The token is kept in sessionStorage
// only, so it is gone when the tab closes; GraphiQL's own state (queries,
// variables, headers, history) is kept in memory, never in localStorage.
(function () {
  const form = document.getElementById('credentials');
  const tokenInput = document.getElementById('token');
  const purposeInput = document.getElementById('purpose');
  const status = document.getElementById('status');
  tokenInput.value = sessionStorage.getItem('veil.token') || '';
  purposeInput.value = sessionStorage.getItem('veil.purpose') || '';

  async function fetcher(params) {
    const headers = { 'Content-Type': 'application/json', 'Accept': 'application/graphql-response+json, application/json' };
    const token = sessionStorage.getItem('veil.token');
    const purpose = sessionStorage.getItem('veil.purpose');
    if (token) headers['Authorization'] = 'Bearer ' + token;
    if (purpose) headers['X-Access-Purpose'] = purpose;
    const res = await fetch('/graphql', { method: 'POST', headers, body: JSON.stringify(params) });
    const body = await res.json();
    status.textContent = res.ok ? '' : (body.errors && body.errors[0] && body.errors[0].message) || res.statusText;
    return body;
  }

  const memory = new Map();
  const storage = {
    getItem: (k) => (memory.has(k) ? memory.get(k) : null),
    setItem: (k, v) => { memory.set(k, String(v)); },
    removeItem: (k) => { memory.delete(k); },
    clear: () => { memory.clear(); },
    key: (i) => Array.from(memory.keys())[i] ?? null,
    get length() { return memory.size; },
  };

  let root = null;
  function start() {
    if (!root) root = ReactDOM.createRoot(document.getElementById('graphiql'));
    root.render(React.createElement(GraphiQL, {
      fetcher,
      storage,
      defaultQuery: '# Staff see personal data masked unless they declare a purpose\n# their role allows; every raw read is audited.\n{\n  users(first: 10) {\n    edges { node { id nickname phone realName } }\n  }\n}\n',
    }));
  }

  form.addEventListener('submit', function (e) {
    e.preventDefault();
    sessionStorage.setItem('veil.token', tokenInput.value.trim());
    sessionStorage.setItem('veil.purpose', purposeInput.value);
    start();
  });
  if (tokenInput.value) start();
})();
