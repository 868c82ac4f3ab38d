/* Answering a survey (residents' phones): the skip logic. A question with data-show-if is
   shown only while the earlier choice question it names has the given option chosen; a
   hidden question's inputs are disabled, so nothing of it is sent (the server applies the
   same rule). Plain ES5 for older in-app browsers. */
(function () {
  "use strict";

  function inputsOf(questionId) {
    return document.querySelectorAll('[name="q' + questionId + '"]');
  }

  function chosen(questionId) {
    var values = [];
    var inputs = inputsOf(questionId);
    for (var i = 0; i < inputs.length; i++) {
      if ((inputs[i].type === "radio" || inputs[i].type === "checkbox") ? inputs[i].checked : inputs[i].value) {
        if (!inputs[i].disabled) { values.push(inputs[i].value); }
      }
    }
    return values;
  }

  function update() {
    // Conditions only point backwards, so one pass in page order settles chains.
    var blocks = document.querySelectorAll("[data-question]");
    for (var i = 0; i < blocks.length; i++) {
      var block = blocks[i];
      var parent = block.getAttribute("data-show-if");
      if (!parent) { continue; }
      var parentBlock = document.getElementById("q" + parent);
      var visible = !(parentBlock && parentBlock.hidden) && chosen(parent).indexOf(block.getAttribute("data-show-value")) >= 0;
      block.hidden = !visible;
      var inputs = block.querySelectorAll("input, select, textarea");
      for (var j = 0; j < inputs.length; j++) { inputs[j].disabled = !visible; }
    }
  }

  function init() {
    var form = document.querySelector("form.ch-survey");
    if (!form) { return; }
    form.addEventListener("change", update);
    update();
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
