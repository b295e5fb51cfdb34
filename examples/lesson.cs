#:project ../src/NotebookLens.Views/NotebookLens.Views.csproj
// A lesson as a C# file-based app: `dotnet run examples/lesson.cs -- lesson.html` writes the same views a notebook
// shows into one self-contained HTML page (works offline, with no notebook host), and prints them as text.
using NotebookLens;
using NotebookLens.Inspection;
using NotebookLens.Runtime;
using NotebookLens.Views;

TorchRuntime.EnsureLoaded();
var output = args.Length > 0 ? args[0] : "lesson.html";
using var lens = LensModel.Load("tiny");

var attention = lens.Attention("The ball is green. The ball has the color");
var report = new HtmlReport("NotebookLens lesson on tiny")
    .Add(lens)
    .Add(lens.Prompt("天氣預報說明天會下雨。"))
    .Add(lens.Arithmetic("冷 - cold + small"))
    .Add(lens.Similarity([new("I ate an apple for breakfast.", "apple"), new("She baked an apple pie.", "apple"), new("He bought Apple shares today.", "Apple")]))
    .Add(lens.LogitLens("The weather is really", new LogitLensOptions { Targets = [" good"] }))
    .Add(attention)
    .Add(AttentionView.TopHeads(attention, attention.Prompt.Locate("color"), attention.Prompt.Locate("green")))
    .Add(lens.Temperatures("The weather is really", 0.5, 1, 2));

Console.WriteLine(report.ToText());
Console.WriteLine($"wrote {report.Save(output)}");
