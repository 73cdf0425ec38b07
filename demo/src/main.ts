console.log("demo: not written yet");
