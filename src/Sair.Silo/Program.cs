Console.WriteLine("Sair.Silo: the host is wired in by the grid issue.");
