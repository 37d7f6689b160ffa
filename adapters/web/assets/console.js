// Live console lists: when the server's feed says something the person may read changed, the
// page asks the server for itself again and swaps in its live region; a polite status line tells
// screen-reader users. Without this script (or without EventSource) the page works the same,
// only a reload shows what changed.
(function () {
  'use strict';
  var region = document.getElementById('regione-viva');
  var status = document.getElementById('stato-aggiornamento');
  if (!region || !status || !window.EventSource || !window.fetch || !window.DOMParser) return;
  var timer = null;
  var busy = false;
  function refresh() {
    timer = null;
    if (busy) { timer = setTimeout(refresh, 500); return; }
    busy = true;
    fetch(window.location.href, { credentials: 'same-origin', headers: { Accept: 'text/html' } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) return;
        var fresh = new DOMParser().parseFromString(html, 'text/html').getElementById('regione-viva');
        if (!fresh) return;
        region.innerHTML = fresh.innerHTML;
        var now = new Date();
        status.textContent = 'Elenco aggiornato alle ' + now.toLocaleTimeString('it-IT', { hour: '2-digit', minute: '2-digit' }) + '.';
      })
      .catch(function () {})
      .then(function () { busy = false; });
  }
  var source = new EventSource('/console/eventi?dopo=' + encodeURIComponent(region.getAttribute('data-dopo') || ''));
  source.addEventListener('evento', function () {
    if (!timer) timer = setTimeout(refresh, 250);
  });
})();
