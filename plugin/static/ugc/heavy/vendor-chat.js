/* The heavier sample page's stand-in for a chat widget: a bubble added once the page has loaded. */
(function () {
  'use strict';
  window.addEventListener('load', function () {
    var bubble = document.createElement('div');
    bubble.className = 'chat';
    bubble.setAttribute('aria-hidden', 'true');
    document.body.appendChild(bubble);
  });
})();
