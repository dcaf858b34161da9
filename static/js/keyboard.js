// The call form by keyboard. A key shown on a button (its aria-keyshortcuts) presses it: a
// radio is chosen and focused (the arrows then move within its group), a button is pressed, a
// text field is focused. Never while the person types in a text field, nor with Ctrl, Alt or
// Meta; Enter on a choice sends nothing. « ? » opens the list of keys (#shortcuts, a modal <dialog>: Escape closes it and the
// focus goes back where it was).
(function () {
  "use strict";
  const dialog = document.getElementById("shortcuts");
  const opener = document.getElementById("shortcuts-open");
  if (!dialog || !opener) return;
  let returnTo = null;

  function typing(element) {
    if (element.isContentEditable || element.matches("textarea, select")) return true;
    return element.matches("input") && !["radio", "checkbox", "button", "submit"].includes(element.type);
  }

  // Digits by their place on the keyboard: without Shift, AZERTY types « & » for 1.
  function keyOf(event) {
    const digit = /^(?:Digit|Numpad)([0-9])$/.exec(event.code);
    return digit ? digit[1] : event.key.toUpperCase();
  }

  function usable(element) {
    return !element.matches(":disabled") && element.getClientRects().length > 0;
  }

  document.addEventListener("keydown", function (event) {
    // Enter on a radio or a checkbox would send the whole call (the browser submits the form
    // with its first button, « Valider et appeler le suivant »): only the buttons send it.
    if (event.key === "Enter" && event.target.matches("#call-form input[type=radio], #call-form input[type=checkbox]")) {
      event.preventDefault();
      return;
    }
    if (event.defaultPrevented || event.ctrlKey || event.altKey || event.metaKey) return;
    if (dialog.open || typing(event.target)) return;
    const key = keyOf(event);
    const target = Array.from(document.querySelectorAll("[aria-keyshortcuts]")).find(function (element) {
      return element.getAttribute("aria-keyshortcuts").toUpperCase() === key && usable(element);
    });
    if (!target) return;
    event.preventDefault();
    if (typing(target)) {
      target.focus();
      return;
    }
    if (target.type === "radio") target.focus();
    target.click();
  });

  // A draft save disables the pickers while it runs, which takes the focus off the radio just
  // chosen: once the new pickers are in, it goes back to the one with the same id. (The last
  // save's, when several follow each other.)
  let focusedId = null;
  document.body.addEventListener("htmx:beforeRequest", function (event) {
    if (event.detail.elt.id === "call-form") focusedId = document.activeElement && document.activeElement.id;
  });
  document.body.addEventListener("htmx:afterSettle", function (event) {
    const config = event.detail.requestConfig;
    if (!config || config.elt.id !== "call-form" || !focusedId) return;
    const element = document.getElementById(focusedId);
    if (element && (!document.activeElement || document.activeElement === document.body)) element.focus();
  });

  opener.addEventListener("click", function () {
    returnTo = document.activeElement;
    dialog.showModal();
  });
  dialog.addEventListener("close", function () {
    // A draft save may have replaced the element meanwhile: the new one has its id.
    if (returnTo && !returnTo.isConnected) returnTo = returnTo.id && document.getElementById(returnTo.id);
    if (returnTo) returnTo.focus();
    returnTo = null;
  });
})();
