// Naumur: what every page needs from the browser beyond htmx. When an htmx request fails (the
// server answers an error, or the network is down), htmx swaps nothing: without this the person
// would believe the change was saved. The messages come from the page (#request-error).
(function () {
  "use strict";
  const box = document.getElementById("request-error");
  if (!box) return;

  function show(kind, status) {
    box.querySelector("[data-message]").textContent =
      box.dataset[kind] + (status ? " (" + status + ")" : "");
    box.classList.remove("d-none");
  }

  document.body.addEventListener("htmx:responseError", function (event) {
    const status = event.detail.xhr.status;
    show(status >= 500 ? "server" : "refused", status);
  });
  document.body.addEventListener("htmx:sendError", function () {
    show("network");
  });
  // The next request that goes through says the connection is back: the message goes.
  document.body.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.successful) box.classList.add("d-none");
  });
  box.querySelector("button").addEventListener("click", function () {
    box.classList.add("d-none");
  });
})();
