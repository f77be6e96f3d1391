/* The heavier sample page's stand-in for an analytics tag: parser work at load, like the real ones. */
(function () {
  'use strict';
  var started = performance.now();
  var events = [];
  while (performance.now() - started < 60) events.push({ t: performance.now(), n: events.length });
  window.demoAnalytics = { queued: events.length };
})();
