// The privacy view: the class registry with the generated lists (public),
// and the rights-request queue (staff, with the console's token).
(function () {
  async function query(q, withToken) {
    const headers = { 'Content-Type': 'application/json' };
    const token = sessionStorage.getItem('veil.token');
    const purpose = sessionStorage.getItem('veil.purpose');
    if (withToken && token) headers['Authorization'] = 'Bearer ' + token;
    if (withToken && purpose) headers['X-Access-Purpose'] = purpose;
    const res = await fetch('/graphql', { method: 'POST', headers, body: JSON.stringify({ query: q }) });
    return res.json();
  }
  function fill(id, rows) {
    const tbody = document.querySelector('#' + id + ' tbody');
    tbody.replaceChildren(...rows.map(function (cells) {
      const tr = document.createElement('tr');
      cells.forEach(function (c) { const td = document.createElement('td'); td.textContent = c == null ? '' : String(c); tr.appendChild(td); });
      return tr;
    }));
  }
  query('{ dataInventory { collected { class information level purpose basis scenario retention fields } shared { recipient dataTypes purpose scenario basis } } }', false)
    .then(function (r) {
      const inv = r.data.dataInventory;
      fill('collected', inv.collected.map(function (c) { return [c.class, c.information, c.level, c.purpose, c.basis, c.scenario, c.retention, c.fields.join(', ')]; }));
      fill('shared', inv.shared.map(function (s) { return [s.recipient, s.dataTypes.join(', '), s.purpose, s.scenario, s.basis]; }));
    });
  if (sessionStorage.getItem('veil.token')) {
    query('{ rightsRequests(first: 100) { edges { node { id kind status createdAt dueAt } } } }', true).then(function (r) {
      if (r.errors) { document.getElementById('queue-note').textContent = r.errors[0].message; return; }
      document.getElementById('queue-note').textContent = '';
      fill('queue', r.data.rightsRequests.edges.map(function (e) { const n = e.node; return [n.id, n.kind, n.status, n.createdAt, n.dueAt]; }));
    });
  }
})();
