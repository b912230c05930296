using ClearOci.Cli;

return await App.MainAsync(args);
