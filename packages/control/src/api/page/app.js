// Stream Haven status page. Plain browser JavaScript, no dependencies, nothing from the internet.
// Everything shown comes from the `snapshot` events of /api/events and is written with
// textContent / setAttribute only (never parsed as markup), so names from the config are always escaped.
(function () {
  'use strict';

  var SVG = 'http://www.w3.org/2000/svg';
  /** Equirectangular projection matching the outline baked into the page (4 px per degree). */
  function project(lat, lon) {
    return { x: (lon + 180) * 4, y: (90 - lat) * 4 };
  }

  function $(id) {
    return document.getElementById(id);
  }

  /** Create an element; `attrs` are set as attributes, `children` are nodes or text. */
  function el(tag, attrs, children, ns) {
    var node = ns ? document.createElementNS(ns, tag) : document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        if (attrs[k] !== undefined && attrs[k] !== null) node.setAttribute(k, String(attrs[k]));
      });
    }
    (children || []).forEach(function (c) {
      if (c === undefined || c === null) return;
      node.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
    });
    return node;
  }
  function svg(tag, attrs, children) {
    return el(tag, attrs, children, SVG);
  }
  function replaceChildren(parent, nodes) {
    while (parent.firstChild) parent.removeChild(parent.firstChild);
    nodes.forEach(function (n) {
      parent.appendChild(n);
    });
  }

  function placeName(p) {
    if (p.city && p.country) return p.city + ', ' + p.country;
    return p.city || p.country || 'unknown place';
  }
  function plural(n, word) {
    return n + ' ' + word + (n === 1 ? '' : 's');
  }
  function copyButton(text) {
    var b = el('button', { type: 'button', class: 'copy', title: 'Copy' }, ['copy']);
    b.addEventListener('click', function () {
      if (navigator.clipboard) navigator.clipboard.writeText(text).catch(function () {});
    });
    return b;
  }

  function renderHeader(status) {
    $('haven-name').textContent = 'Stream Haven · ' + status.name;
    document.title = status.name + ' · Stream Haven';
    replaceChildren(
      $('streams'),
      status.streams.map(function (s) {
        var label = s.name + (s.ready ? ': on air · ' + plural(s.viewers, 'viewer') : ': offline');
        return el('li', { class: 'stream', 'data-stream': s.name, 'data-ready': String(s.ready) }, [label, vrchatBadge(s)]);
      }),
    );
    replaceChildren($('totals'), [
      el('div', { class: 'total' }, [el('b', { id: 'total-viewers' }, [status.totals.viewers]), el('span', null, ['viewers'])]),
      el('div', { class: 'total' }, [el('b', { id: 'total-up' }, [status.totals.nodesUp + '/' + status.totals.nodes]), el('span', null, ['nodes healthy'])]),
      el('div', { class: 'total' }, [el('b', null, [status.state]), el('span', null, ['haven'])]),
    ]);
  }

  function renderMap(status, viewers) {
    var origin = status.nodes.find(function (n) {
      return n.origin;
    });
    var links = [];
    var marks = [];
    status.nodes.forEach(function (n) {
      if (!n.location) return;
      var p = project(n.location.lat, n.location.lon);
      if (origin && origin.location && !n.origin) {
        var o = project(origin.location.lat, origin.location.lon);
        links.push(svg('line', { class: 'vpn-link ' + n.health, x1: o.x, y1: o.y, x2: p.x, y2: p.y }));
      }
      var r = 7 + Math.min(10, Math.sqrt(n.viewers) * 2);
      var sub = plural(n.viewers, 'viewer') + (n.load === null ? '' : ' · ' + Math.round(n.load * 100) + '%');
      var title = n.name + (n.region ? ' (' + n.region + ')' : '') + ': ' + n.health + ', ' + sub;
      marks.push(
        svg('g', { class: 'node ' + n.health + (n.origin ? ' origin' : ''), 'data-node': n.name, 'data-health': n.health }, [
          svg('title', null, [title]),
          n.origin ? svg('circle', { class: 'node-ring', cx: p.x, cy: p.y, r: r + 5 }) : null,
          svg('circle', { class: 'node-mark', cx: p.x, cy: p.y, r: r }),
          svg('text', { class: 'node-label', x: p.x + r + 8, y: p.y - 2 }, [n.name + (n.origin ? ' (origin)' : '')]),
          svg('text', { class: 'node-sub', x: p.x + r + 8, y: p.y + 16 }, [sub]),
        ]),
      );
    });
    var dots = viewers.places
      .filter(function (pl) {
        return typeof pl.lat === 'number' && typeof pl.lon === 'number';
      })
      .map(function (pl) {
        var p = project(pl.lat, pl.lon);
        return svg('circle', { class: 'viewer-dot', cx: p.x, cy: p.y, r: 3 + Math.min(14, Math.sqrt(pl.viewers) * 2) }, [
          svg('title', null, [placeName(pl) + ': ' + plural(pl.viewers, 'viewer')]),
        ]);
      });
    replaceChildren($('map-links'), links);
    replaceChildren($('map-viewers'), dots);
    replaceChildren($('map-nodes'), marks);
  }

  function renderNodes(status) {
    var rows = status.nodes.map(function (n) {
      var load = n.load === null ? el('span', { class: 'muted' }, ['no limit']) : el('meter', { min: 0, max: 1, low: 0.7, high: 0.9, optimum: 0, value: Math.min(1, n.load), title: Math.round(n.load * 100) + '%' });
      var health = n.health + (n.health === 'down' && n.reason ? ' (' + n.reason + ')' : '');
      return el('tr', { 'data-node': n.name, 'data-health': n.health }, [
        el('td', null, [n.name + (n.origin ? ' (origin)' : '')]),
        el('td', null, [n.region || '']),
        el('td', { class: 'health' }, [health]),
        el('td', { class: 'num' }, [n.viewers + (n.capacity ? ' / ' + n.capacity : '')]),
        el('td', null, [load]),
        el('td', { class: 'num' }, [typeof n.rttMs === 'number' ? n.rttMs + ' ms' : '']),
      ]);
    });
    replaceChildren($('nodes-table').tBodies[0], rows);
  }

  function renderDecisions(decisions) {
    var rows = decisions.map(function (d) {
      return el('tr', null, [
        el('td', { class: 'num' }, [new Date(d.at).toLocaleTimeString()]),
        el('td', null, [placeName(d)]),
        el('td', null, [d.player || '']),
        el('td', null, [d.node]),
        el('td', null, [d.mode]),
        el('td', null, [d.reason + (typeof d.distanceKm === 'number' ? ' · ' + d.distanceKm + ' km' : '')]),
        el('td', { class: 'num' }, [d.decisionMs.toFixed(1)]),
      ]);
    });
    replaceChildren($('decisions-table').tBodies[0], rows);
    $('decisions-empty').hidden = rows.length > 0;
  }

  function renderPlaces(viewers) {
    var rows = viewers.places.map(function (p) {
      var served = Object.keys(p.nodes)
        .map(function (k) {
          return k + ' ×' + p.nodes[k];
        })
        .join(', ');
      return el('tr', null, [el('td', null, [placeName(p)]), el('td', { class: 'num' }, [p.viewers]), el('td', null, [served])]);
    });
    replaceChildren($('places-table').tBodies[0], rows);
    $('places-empty').hidden = rows.length > 0;
  }

  function renderLinks(status) {
    var rows = status.links.map(function (l) {
      var where = l.node === null ? 'Nearest node (automatic)' : l.node + (l.region ? ' · ' + l.region : '');
      return el('tr', null, [
        el('td', null, [where]),
        el('td', null, [l.stream]),
        el('td', null, [el('code', null, [l.rtsp]), copyButton(l.rtsp)]),
        el('td', null, l.hls ? [el('code', null, [l.hls]), copyButton(l.hls)] : []),
      ]);
    });
    replaceChildren($('links-table').tBodies[0], rows);
    // A private origin lists entry nodes only; while its gateway still listens as at start, say what changes.
    var x = status.exposure;
    var note = x ? (x.mode === 'private' ? 'Private origin (' + x.why + '): one link per entry node; no link names this machine.' : '') + (x.change ? ' Note: ' + x.change : '') : '';
    $('exposure-note').textContent = note.trim();
    $('exposure-note').hidden = note.trim() === '';
  }

  // --- VRChat ingest check -----------------------------------------------------------------
  var VRCHAT_WORDS = { fine: 'ready', degrades: 'plays poorly', breaks: 'does not play' };
  function vrchatBadge(s) {
    if (!s.ready || !s.vrchat) return null;
    var v = s.vrchat;
    var title = 'VRChat PC: ' + v.pc + ' · Quest: ' + v.quest;
    return el('span', { class: 'vrchat-badge', 'data-level': v.level, title: title }, ['VRChat: ' + VRCHAT_WORDS[v.level]]);
  }

  function renderVrchat(status) {
    var cards = [];
    status.streams.forEach(function (s) {
      if (!s.ready || !s.vrchat) return;
      var v = s.vrchat;
      var rows = v.findings.map(function (f) {
        var level = f.fixedByHaven ? 'fixed' : f.level;
        return el('tr', { 'data-level': level, 'data-rule': f.rule }, [
          el('td', { class: 'vrchat-level' }, [f.fixedByHaven ? 'fixed by the Haven' : f.level]),
          el('td', null, [f.what]),
          el('td', null, f.fix && f.level !== 'fine' ? [el('b', null, ['OBS: ']), f.fix] : []),
        ]);
      });
      var facts = v.facts;
      var summary = [
        facts.video ? facts.video.codec + (facts.video.width ? ' ' + facts.video.width + 'x' + facts.video.height : '') : 'no video',
        facts.audio ? facts.audio.codec + (facts.audio.sampleRate ? ' ' + facts.audio.sampleRate / 1000 + ' kHz' : '') : 'no audio',
        typeof facts.totalKbps === 'number' ? Math.round(facts.totalKbps) + ' kbit/s' : null,
        facts.video && typeof facts.video.keyframeIntervalSec === 'number' ? 'keyframe every ' + Math.round(facts.video.keyframeIntervalSec * 10) / 10 + ' s' : null,
      ].filter(Boolean).join(' · ');
      cards.push(
        el('div', { class: 'vrchat-stream', 'data-stream': s.name, 'data-level': v.level }, [
          el('h3', null, [s.name + ' · VRChat ' + VRCHAT_WORDS[v.level] + ' (PC ' + v.pc + ', Quest ' + v.quest + ')' + (v.audioFixed ? ' · audio re-encoded to AAC 48 kHz' : '')]),
          el('p', { class: 'hint' }, [summary]),
          el('table', { class: 'vrchat-table' }, [
            el('thead', null, [el('tr', null, [el('th', null, ['Level']), el('th', null, ['What OBS sends']), el('th', null, ['Change in OBS'])])]),
            el('tbody', null, rows),
          ]),
        ]),
      );
    });
    replaceChildren($('vrchat-list'), cards);
    $('vrchat-empty').hidden = cards.length > 0;
  }

  // Players (RTSP gateway): follow-through of redirects and the auth scheme used, per User-Agent.
  function renderPlayers(status) {
    var players = status.players || [];
    var rows = players.map(function (p) {
      var served = p.served === 'local' ? 'here (' + p.why.replace('-', ' ') + ')' : 'its node' + (p.why === 'pinned-redirect' ? ' (pinned)' : '');
      return el('tr', { 'data-player': p.userAgent, 'data-served': p.served }, [
        el('td', null, [p.userAgent]),
        el('td', { class: 'num' }, [p.redirects]),
        el('td', { class: 'num' }, [p.followed]),
        el('td', { class: 'num' }, [p.sameConnection]),
        el('td', { class: 'num' }, [p.notFollowed]),
        el('td', { class: 'num' }, [typeof p.followRate === 'number' ? Math.round(p.followRate * 100) + '%' : '']),
        el('td', null, [served]),
        el('td', { class: 'num' }, [p.basic]),
        el('td', { class: 'num' }, [p.digest]),
      ]);
    });
    replaceChildren($('players-table').tBodies[0], rows);
    $('players-empty').hidden = rows.length > 0;
    var auth = status.auth || { basic: 0, digest: 0 };
    $('auth-basic').textContent =
      auth.basic > 0
        ? auth.basic + ' viewer(s) still sent the password with Basic (readable on the network); ' + auth.digest + ' used Digest. Set viewer.allowBasic: false to refuse Basic.'
        : auth.digest + ' viewer(s) used Digest; none sent the password in clear.';
  }

  /** Who feeds whom: each node with the parent it pulls from and the bitrate it receives. */
  function renderRelay(status) {
    var tree = status.relay;
    $('relay-card').hidden = !tree || tree.edges.length === 0;
    if (!tree) return;
    var mbps = function (bps) {
      return typeof bps === 'number' ? (bps / 1e6).toFixed(1) + ' Mbit/s' : '';
    };
    var budget = tree.originBudget === null ? 'no limit' : tree.originChildren + ' of ' + tree.originBudget;
    $('relay-summary').textContent =
      'The origin feeds ' + budget + ' node(s) directly; the others pull from a node. Depth ' + tree.depth + (typeof tree.bitrateBps === 'number' ? ' · stream ' + mbps(tree.bitrateBps) : '') + '.';
    var rows = tree.edges.map(function (e) {
      return el('tr', { 'data-relay-node': e.node, 'data-relay-parent': e.parent }, [
        el('td', null, [e.node]),
        el('td', null, [e.parent === tree.origin ? e.parent + ' (origin)' : e.parent]),
        el('td', { class: 'num' }, [String(e.depth)]),
        el('td', { class: 'num' }, [mbps(e.bitrateBps)]),
      ]);
    });
    replaceChildren($('relay-table').tBodies[0], rows);
    var notes = [];
    if (tree.unplaced.length > 0) notes.push('Waiting for a parent with room: ' + tree.unplaced.join(', ') + '.');
    tree.demoted.forEach(function (d) {
      notes.push('Demoted, feeds nobody for now: ' + d.node + ' (' + d.reason + ').');
    });
    $('relay-waiting').textContent = notes.join(' ');
    $('relay-waiting').hidden = notes.length === 0;
  }

  function render(snapshot) {
    renderHeader(snapshot.status);
    renderMap(snapshot.status, snapshot.viewers);
    renderNodes(snapshot.status);
    renderPlayers(snapshot.status);
    renderRelay(snapshot.status);
    renderDecisions(snapshot.decisions);
    renderPlaces(snapshot.viewers);
    renderLinks(snapshot.status);
    renderVrchat(snapshot.status);
    document.body.setAttribute('data-updated', String(Date.now()));
  }

  function connect() {
    var conn = $('conn');
    var source = new EventSource('/api/events');
    source.addEventListener('open', function () {
      conn.dataset.state = 'live';
      conn.textContent = 'live';
    });
    source.addEventListener('error', function () {
      conn.dataset.state = 'reconnecting';
      conn.textContent = 'reconnecting…';
    });
    source.addEventListener('snapshot', function (e) {
      try {
        render(JSON.parse(e.data));
      } catch (err) {
        conn.textContent = 'could not show the update';
        throw err;
      }
    });
  }

  connect();
})();
